// The one table and CSV writer every report uses.
import { describe, expect, it } from 'vitest';

import { textTable, toCsv } from '../../lib/util/table.js';

describe('reports', () => {
  it('align text left and numbers right, pad to the widest cell, keep trailers outside the widths', () => {
    const t = textTable([['system', 'load', 'p99'], ['pallas', '0.5', '12.0'], { cells: ['rs-darc', '0.95', '130.5'], trailer: ' SAT' }]);
    expect(t).toBe(['system   load    p99', 'pallas    0.5   12.0', 'rs-darc  0.95  130.5 SAT'].join('\n'));
    expect(
      textTable(
        [
          ['a', 'b'],
          ['long text', 'x'],
        ],
        ['left', 'left'],
      ),
    ).toBe('a          b\nlong text  x');
  });

  it('write CSV by RFC 4180: quotes only where needed, doubled inside, empty for missing values', () => {
    expect(
      toCsv([
        ['name', 'note', 'n'],
        ['a,b', 'say "hi"', 3],
        ['plain', null, undefined],
        ['line\nbreak', true, 0.5],
      ]),
    ).toBe('name,note,n\n"a,b","say ""hi""",3\nplain,,\n"line\nbreak",true,0.5\n');
  });
});
