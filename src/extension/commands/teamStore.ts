/** @file CLIP: Set Team Store Password…: the team store's password into SecretStorage (extension/store/teamStore.ts). */
import type { CommandDef } from './registry';

export const setStorePasswordCommand: CommandDef = {
	id: 'clipSearch.setStorePassword',
	run: s => s.teamStore.setPassword(),
};
