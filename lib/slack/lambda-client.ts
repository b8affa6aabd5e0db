/**
 * The parts of the AWS SDK's Lambda client the hand-off uses, imported by name so that the
 * bundle keeps only them (a dynamic import of the package would keep every command). handoff.ts
 * loads this module when a command first needs it.
 */
export { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
