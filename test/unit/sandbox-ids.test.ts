import { isWellFormedId, newId, newKsuid } from '../../sandbox/ids.ts';

describe('Sandbox: ids', () => {
  it('makes a prefix and 27 base62 characters', () => {
    expect(newId('es')).toMatch(/^es_[0-9A-Za-z]{27}$/);
    expect(newId('op')).toMatch(/^op_[0-9A-Za-z]{27}$/);
  });

  it('sorts ids as strings in the order they were made, even within one second', () => {
    const ids = Array.from({ length: 1000 }, () => newId('ed'));

    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('puts the creation time first: a later second sorts after', () => {
    const earlier = newKsuid(Date.parse('2021-04-28T17:24:09Z'));
    const later = newKsuid(Date.parse('2031-04-28T17:24:09Z'));

    expect(later > earlier).toBe(true);
  });

  it('tells a well-formed id of the right kind', () => {
    expect(isWellFormedId(newId('es'), 'es')).toBe(true);
    expect(isWellFormedId(newId('ed'), 'es')).toBe(false);
    expect(isWellFormedId('es_short', 'es')).toBe(false);
  });
});
