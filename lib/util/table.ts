// The one plain-text table and the one CSV writer for every report (sim, bench live, io, runtime,
// summaries): columns padded to their widest cell, text columns left-aligned and numbers right;
// CSV by RFC 4180 (a cell with a comma, quote or line break is quoted, quotes doubled).

export type Align = 'left' | 'right';

/**
 * Rows of cells as aligned text, two spaces between columns. `align` per column (default: the
 * first column left, the others right). A row may carry `trailer`: text appended after its cells
 * (a note, a marker) that does not count towards the widths.
 */
export function textTable(rows: (string[] | { cells: string[]; trailer: string })[], align: Align[] = []): string {
  const cells = rows.map((r) => (Array.isArray(r) ? r : r.cells));
  const n = Math.max(0, ...cells.map((r) => r.length));
  const widths = Array.from({ length: n }, (_, c) => Math.max(0, ...cells.map((r) => (r[c] ?? '').length)));
  const alignOf = (c: number): Align => align[c] ?? (c === 0 ? 'left' : 'right');
  return rows
    .map((r, i) => {
      const line = cells[i]!.map((cell, c) => (alignOf(c) === 'left' ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
        .join('  ')
        .trimEnd();
      return Array.isArray(r) ? line : `${line}${r.trailer}`;
    })
    .join('\n');
}

/** One CSV cell: numbers as they print, strings quoted when they must be, null and undefined empty. */
function csvCell(v: string | number | boolean | null | undefined): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One row of a Markdown table. */
export function mdRow(cells: (string | number)[]): string {
  return `| ${cells.join(' | ')} |`;
}

/** Rows as CSV text, with a final line break. */
export function toCsv(rows: (string | number | boolean | null | undefined)[][]): string {
  return `${rows.map((r) => r.map(csvCell).join(',')).join('\n')}\n`;
}
