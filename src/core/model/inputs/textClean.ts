/**
 * @file The text cleaning OpenAI's CLIP tokenizer does before BPE (`basic_clean`, `whitespace_clean`
 * in simple_tokenizer.py): ftfy.fix_text, then HTML unescaping twice, then whitespace collapsed.
 * The model learned from text cleaned this way, so queries are cleaned the same way.
 *
 * [Note: ftfy] ftfy has no JavaScript port; the steps of fix_text that change real queries are
 * done here, in ftfy's order: HTML entities (only when the text has no '<', as ftfy's "auto"),
 * terminal escapes removed, mojibake repaired (UTF-8 read as Windows-1252: "cafÃ©" → "café"), C1
 * controls read as Windows-1252 (U+0085 → "…"), Latin ligatures and fullwidth/halfwidth forms
 * folded, curly quotes straightened, line breaks unified, control characters and the BOM removed,
 * NFC. HTML entities use the `entities` library (the HTML standard's rules, legacy entities without
 * a semicolon included, as Python's html.unescape). ftfy's mojibake repair weighs how likely a
 * sequence is to be mojibake; this one repairs a sequence only when it decodes as valid UTF-8 and
 * every character of it is one Windows-1252 shows for a byte of a multi-byte UTF-8 sequence.
 */
import { decodeHTML } from 'entities';

/** Windows-1252's characters for bytes 0x80–0x9F (undefined where the byte has none). */
const CP1252_HIGH = ['€', undefined, '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', undefined, 'Ž', undefined, undefined, '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', undefined, 'ž', 'Ÿ'];
const CP1252_BYTE = new Map<string, number>();
for (let b = 0xa0; b <= 0xff; b++) {
	CP1252_BYTE.set(String.fromCharCode(b), b);
}
CP1252_HIGH.forEach((c, i) => c && CP1252_BYTE.set(c, 0x80 + i));

/** Characters Windows-1252 shows for a continuation byte (0x80–0xBF). */
const CONT = `[\\u00a0-\\u00bf${CP1252_HIGH.slice(0, 32).filter(Boolean).join('')}]`;
/** A lead byte shown as Windows-1252 (0xC2–0xF4), followed by its continuation bytes. */
const MOJIBAKE = new RegExp(`[\\u00c2-\\u00df]${CONT}|[\\u00e0-\\u00ef]${CONT}{2}|[\\u00f0-\\u00f4]${CONT}{3}`, 'g');
const utf8 = new TextDecoder('utf-8', { fatal: true });

function fixMojibake(text: string): string {
	return text.replace(MOJIBAKE, seq => {
		const bytes = Uint8Array.from(seq, c => CP1252_BYTE.get(c) ?? 0);
		try {
			return utf8.decode(bytes);
		} catch {
			return seq;
		}
	});
}

/** C1 controls (U+0080–U+009F) as the Windows-1252 characters they usually were. */
function fixC1Controls(text: string): string {
	return text.replace(/[\u0080-\u009f]/g, c => CP1252_HIGH[c.charCodeAt(0) - 0x80] ?? c);
}

const LIGATURES = /[\u0132\u0133\u0149\u01c4-\u01cc\u01f1-\u01f3\ufb00-\ufb06]/g;
const WIDTH = /[\u3000\uff01-\uffef]/g;
const TERMINAL_ESCAPES = /\u001b\[(?:\d|;)*[a-zA-Z]/g;
// C0 controls but tab, newline and carriage return; DEL; the BOM; interlinear annotations;
// deprecated format characters; tag characters (ftfy's remove_control_chars).
const CONTROL = /[\u0000-\u0008\u000b\u000e-\u001f\u007f\ufeff\ufff9-\ufffb\u206a-\u206f]|\udb40[\udc00-\udc7f]/g;

/** The steps of ftfy.fix_text that matter for CLIP's input (see the note above). */
export function fixText(input: string): string {
	let text = input;
	if (!text.includes('<')) {
		text = decodeHTML(text);
	}
	text = text.replace(TERMINAL_ESCAPES, '');
	text = fixMojibake(text);
	text = fixC1Controls(text);
	text = text.replace(LIGATURES, c => c.normalize('NFKC'));
	text = text.replace(WIDTH, c => c.normalize('NFKC'));
	text = text.replace(/[\u02bc\u2018-\u201b]/g, "'").replace(/[\u201c-\u201f]/g, '"');
	text = text.replace(/\r\n|[\r\u2028\u2029]/g, '\n');
	text = text.replace(CONTROL, '');
	return text.normalize('NFC');
}

/** OpenAI's basic_clean + whitespace_clean: what the tokenizer sees. */
export function cleanText(text: string): string {
	return decodeHTML(decodeHTML(fixText(text)))
		.trim()
		.replace(/\s+/g, ' ')
		.trim();
}
