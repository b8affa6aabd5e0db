/**
 * `POST /slack/commands`: the fields of Slack's slash command this service reads (Slack sends
 * more, which are ignored), and the shape of its answer, for the OpenAPI document and the tests.
 */
import * as z from 'zod/mini';
import { COMMANDS } from '../slack/commands.ts';

export const SlashCommand = z.object({
  team_id: z.string().check(z.minLength(1), z.describe('The Slack workspace: must be allowed.')),
  user_id: z.string().check(z.minLength(1), z.describe('Who ran the command.')),
  channel_id: z.string(),
  command: z.string().check(z.describe('`/eventstreams`.')),
  text: z
    .string()
    .check(
      z.describe(
        `The command: ${COMMANDS.map((spec) => spec.name).join(', ')} (and what follows).`,
      ),
    ),
  response_url: z
    .string()
    .check(z.minLength(1), z.describe('Where a later answer is posted: https://hooks.slack.com/…')),
});
export type SlashCommand = z.infer<typeof SlashCommand>;

export const SlackAnswer = z.object({
  response_type: z.enum(['ephemeral', 'in_channel']),
  text: z.string(),
  blocks: z
    .array(z.object({ type: z.string() }))
    .check(z.describe('Block Kit blocks (at most 50).')),
});
