/**
 * @file Text from outside (file names, a store's paths, recognised text, an error that quotes them)
 * made safe to print for people.
 *
 * [Note: names printed raw] A file named `evil\e]0;PWNED\a\e[2Jred.png` set the terminal's title and
 * cleared the screen when a result list printed it; `new\nline.png` split one result over two lines,
 * and a path in a team store forged a whole result line. Every human-readable output passes such text
 * through printable(), the way `ls` quotes names: control characters (C0, DEL, C1), the bidirectional
 * overrides that make text read in another order than it is stored, and lone surrogates (what
 * invalid UTF-8 may become) are shown as escapes (`\n`, `\x1b`, `\u{202e}`); a backslash is doubled
 * only in text that needed an escape, so ordinary Windows paths print as they are. JSON output needs
 * none of this: JSON.stringify escapes control characters itself.
 */

// C0 controls, DEL, C1 controls; bidi embeddings, overrides and isolates, LRM/RLM/ALM; lone surrogates.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeOne(c: string): string {
	const named = NAMED[c];
	if (named) {
		return named;
	}
	const code = c.charCodeAt(0);
	return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
}

/** The text with anything that could change how a terminal or an editor shows it escaped (see the note). */
export function printable(text: string): string {
	UNSAFE.lastIndex = 0;
	if (!UNSAFE.test(text)) {
		return text;
	}
	UNSAFE.lastIndex = 0;
	return text.replace(/\\/g, '\\\\').replace(UNSAFE, escapeOne);
}
