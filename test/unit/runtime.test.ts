describe('Runtime', () => {
  it('runs the tests under Node.js 24, the Lambda runtime (pinned by the `node` devDependency)', () => {
    expect(process.versions.node.split('.')[0]).toBe('24');
  });
});
