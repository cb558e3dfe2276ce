// Results grid: click or Enter opens an image, Shift+Enter reveals it; arrow keys move between
// cells. Only the result's index goes back to the extension.
(function () {
	const vscode = acquireVsCodeApi();
	const cells = Array.from(document.querySelectorAll('.hit'));
	const send = (type, el) => vscode.postMessage({ type, index: Number(el.dataset.index) });
	const columns = () => {
		if (cells.length < 2) return 1;
		const top = cells[0].getBoundingClientRect().top;
		const n = cells.findIndex(c => c.getBoundingClientRect().top !== top);
		return n === -1 ? cells.length : n;
	};
	cells.forEach((el, i) => {
		el.addEventListener('click', () => send('open', el));
		el.addEventListener('keydown', e => {
			const step = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: columns(), ArrowUp: -columns() }[e.key];
			if (step) {
				e.preventDefault();
				const next = cells[Math.max(0, Math.min(cells.length - 1, i + step))];
				next.focus();
			} else if (e.key === 'Enter' && e.shiftKey) {
				e.preventDefault();
				send('reveal', el);
			}
		});
	});
	// More/Less like this: the hit's index and which; the extension searches again.
	document.querySelectorAll('.act').forEach(b => b.addEventListener('click', () => send(b.dataset.act === 'more' ? 'more' : 'less', b)));
	if (cells[0]) cells[0].focus();
})();
