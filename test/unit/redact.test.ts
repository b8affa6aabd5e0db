import { redact, redactingReplacer, registerSecretValue } from '../../lib/observability/redact.ts';

describe('redact: the logger never writes a secret', () => {
  it('hides a registered value wherever it appears in a string', () => {
    registerSecretValue('2AbCdEfGhIjKlMnOp_secret');

    expect(redact('ngrok said: key 2AbCdEfGhIjKlMnOp_secret is bad')).toBe(
      'ngrok said: key [redacted] is bad',
    );
  });

  it('hides caller tokens, Authorization credentials and Slack response URLs by their shape', () => {
    expect(redact('token nes_abcdefghijklmnop-_123 seen')).toBe('token [redacted] seen');
    expect(redact('authorization: bearer abc.def-ghi_jkl')).toBe('authorization: [redacted]');
    expect(redact('post to https://hooks.slack.com/commands/T1/2/abc now')).toBe(
      'post to [redacted] now',
    );
  });

  it('leaves ordinary text alone, and does not register values too short to be secrets', () => {
    registerSecretValue('short');

    expect(redact('a short description of es_2abc')).toBe('a short description of es_2abc');
  });

  it('works at any depth of a JSON line', () => {
    registerSecretValue('deep-secret-value-1');
    const line = JSON.stringify(
      { a: { b: ['x deep-secret-value-1 y'] }, n: 1, t: true },
      redactingReplacer,
    );

    expect(JSON.parse(line)).toEqual({ a: { b: ['x [redacted] y'] }, n: 1, t: true });
  });
});
