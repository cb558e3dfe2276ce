/**
 * @file The geometry of DB text detection's post-processing: text regions of a binary map
 * (connected components), the smallest rotated rectangle around each (convex hull + rotating
 * calipers), and the box's expansion ("unclip").
 */

export type Point = [number, number];

/** A rotated rectangle as its four corners, clockwise from the top-left, with its side lengths. */
export interface Box {
	points: [Point, Point, Point, Point];
	width: number;
	height: number;
}

/**
 * The 8-connected regions of `mask` (width × height, 1 = text). Each region is given by the
 * corners of its boundary pixels (what a contour follows), at most `maxRegions`, largest first.
 */
export function regions(mask: Uint8Array, width: number, height: number, maxRegions = 1000): Point[][] {
	const label = new Int32Array(width * height);
	const out: { points: Point[]; size: number }[] = [];
	const stack: number[] = [];
	let next = 0;
	for (let start = 0; start < mask.length; start++) {
		if (!mask[start] || label[start]) {
			continue;
		}
		next++;
		label[start] = next;
		stack.push(start);
		const points: Point[] = [];
		let size = 0;
		while (stack.length) {
			const i = stack.pop()!;
			size++;
			const x = i % width;
			const y = (i - x) / width;
			let boundary = false;
			for (let dy = -1; dy <= 1; dy++) {
				for (let dx = -1; dx <= 1; dx++) {
					const nx = x + dx;
					const ny = y + dy;
					if (nx < 0 || ny < 0 || nx >= width || ny >= height) {
						boundary = true;
						continue;
					}
					const j = ny * width + nx;
					if (!mask[j]) {
						boundary = true;
					} else if (!label[j]) {
						label[j] = next;
						stack.push(j);
					}
				}
			}
			if (boundary) {
				points.push([x, y], [x + 1, y], [x, y + 1], [x + 1, y + 1]);
			}
		}
		out.push({ points, size });
	}
	return out
		.sort((a, b) => b.size - a.size)
		.slice(0, maxRegions)
		.map(r => r.points);
}

/** Convex hull (Andrew's monotone chain), counter-clockwise in image coordinates' math sense. */
export function convexHull(points: Point[]): Point[] {
	const pts = [...points].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
	if (pts.length < 3) {
		return pts;
	}
	const cross = (o: Point, a: Point, b: Point): number => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
	const lower: Point[] = [];
	for (const p of pts) {
		while (lower.length >= 2 && cross(lower[lower.length - 2], lower[lower.length - 1], p) <= 0) {
			lower.pop();
		}
		lower.push(p);
	}
	const upper: Point[] = [];
	for (let i = pts.length - 1; i >= 0; i--) {
		const p = pts[i];
		while (upper.length >= 2 && cross(upper[upper.length - 2], upper[upper.length - 1], p) <= 0) {
			upper.pop();
		}
		upper.push(p);
	}
	return lower.slice(0, -1).concat(upper.slice(0, -1));
}

/** Orders four corners: top-left, top-right, bottom-right, bottom-left (as PaddleOCR's get_mini_boxes). */
function order(corners: Point[]): [Point, Point, Point, Point] {
	const byX = [...corners].sort((a, b) => a[0] - b[0]);
	const [l1, l2] = byX[0][1] <= byX[1][1] ? [byX[0], byX[1]] : [byX[1], byX[0]];
	const [r1, r2] = byX[2][1] <= byX[3][1] ? [byX[2], byX[3]] : [byX[3], byX[2]];
	return [l1, r1, r2, l2];
}

/** The smallest rotated rectangle around the points (rotating calipers over the hull's edges). */
export function minAreaRect(points: Point[]): Box {
	const hull = convexHull(points);
	if (hull.length < 3) {
		const xs = points.map(p => p[0]);
		const ys = points.map(p => p[1]);
		const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
		return { points: [[x0, y0], [x1, y0], [x1, y1], [x0, y1]], width: x1 - x0, height: y1 - y0 };
	}
	let best: { area: number; corners: Point[]; w: number; h: number } | undefined;
	for (let i = 0; i < hull.length; i++) {
		const a = hull[i];
		const b = hull[(i + 1) % hull.length];
		const len = Math.hypot(b[0] - a[0], b[1] - a[1]);
		if (len === 0) {
			continue;
		}
		const ux = (b[0] - a[0]) / len;
		const uy = (b[1] - a[1]) / len;
		let minU = Infinity;
		let maxU = -Infinity;
		let minV = Infinity;
		let maxV = -Infinity;
		for (const p of hull) {
			const u = p[0] * ux + p[1] * uy;
			const v = -p[0] * uy + p[1] * ux;
			minU = Math.min(minU, u);
			maxU = Math.max(maxU, u);
			minV = Math.min(minV, v);
			maxV = Math.max(maxV, v);
		}
		const area = (maxU - minU) * (maxV - minV);
		if (!best || area < best.area - 1e-9) {
			const at = (u: number, v: number): Point => [u * ux - v * uy, u * uy + v * ux];
			best = { area, corners: [at(minU, minV), at(maxU, minV), at(maxU, maxV), at(minU, maxV)], w: maxU - minU, h: maxV - minV };
		}
	}
	const corners = order(best!.corners);
	const width = Math.hypot(corners[1][0] - corners[0][0], corners[1][1] - corners[0][1]);
	const height = Math.hypot(corners[3][0] - corners[0][0], corners[3][1] - corners[0][1]);
	return { points: corners, width, height };
}

/**
 * [Note: unclip] DB shrinks text regions in training, so a found region is grown back by
 * d = area × ratio / perimeter (PaddleOCR offsets the box polygon with pyclipper, round joins,
 * then takes the smallest rectangle around the result). The box is a rectangle, and the smallest
 * rectangle around a rectangle offset by d with round joins is the rectangle grown by d on every
 * side: that is computed directly, exactly, with no polygon library.
 */
export function unclip(box: Box, ratio: number): Box {
	const area = box.width * box.height;
	const perimeter = 2 * (box.width + box.height);
	if (perimeter === 0) {
		return box;
	}
	const d = (area * ratio) / perimeter;
	const [p0, p1, , p3] = box.points;
	const ux = (p1[0] - p0[0]) / (box.width || 1);
	const uy = (p1[1] - p0[1]) / (box.width || 1);
	const vx = (p3[0] - p0[0]) / (box.height || 1);
	const vy = (p3[1] - p0[1]) / (box.height || 1);
	const o: Point = [p0[0] - d * ux - d * vx, p0[1] - d * uy - d * vy];
	const w = box.width + 2 * d;
	const h = box.height + 2 * d;
	const corners: Point[] = [o, [o[0] + w * ux, o[1] + w * uy], [o[0] + w * ux + h * vx, o[1] + w * uy + h * vy], [o[0] + h * vx, o[1] + h * vy]];
	const ordered = order(corners);
	return { points: ordered, width: Math.hypot(ordered[1][0] - ordered[0][0], ordered[1][1] - ordered[0][1]), height: Math.hypot(ordered[3][0] - ordered[0][0], ordered[3][1] - ordered[0][1]) };
}

/** Whether (x, y) lies inside the convex quadrilateral. */
export function insideQuad(q: [Point, Point, Point, Point], x: number, y: number): boolean {
	let sign = 0;
	for (let i = 0; i < 4; i++) {
		const a = q[i];
		const b = q[(i + 1) % 4];
		const c = (b[0] - a[0]) * (y - a[1]) - (b[1] - a[1]) * (x - a[0]);
		if (c !== 0) {
			if (sign === 0) {
				sign = Math.sign(c);
			} else if (Math.sign(c) !== sign) {
				return false;
			}
		}
	}
	return true;
}
