import { applySourceEdits, ferretdbSourceEdits, type SourceEdit } from '../src/ferretdb-build';

const edit: SourceEdit = { file: 'a.go', find: 'x := 1\n', replace: 'x := 2\n', why: 'a test' };

describe('the edits FerretDB is built with', () => {
  it('replace text that occurs exactly once, and only in their own file', () => {
    expect(applySourceEdits('a.go', 'package a\nx := 1\n', [edit])).toBe('package a\nx := 2\n');
    expect(applySourceEdits('b.go', 'package b\nx := 1\n', [edit])).toBe('package b\nx := 1\n');
  });

  it('refuse a source that lacks the text or has it twice, naming the file and the reason', () => {
    expect(() => applySourceEdits('a.go', 'package a\n', [edit])).toThrow(
      /a\.go .*found it 0 times \(a test\)/,
    );
    expect(() => applySourceEdits('a.go', 'x := 1\nx := 1\n', [edit])).toThrow(/found it 2 times/);
  });

  it('keep "$" in replacements literal', () => {
    const dollar = { ...edit, replace: "y := '$&'\n" };
    expect(applySourceEdits('a.go', 'x := 1\n', [dollar])).toBe("y := '$&'\n");
  });

  it('each say why', () => {
    for (const e of ferretdbSourceEdits) expect(e.why.length).toBeGreaterThan(20);
  });
});
