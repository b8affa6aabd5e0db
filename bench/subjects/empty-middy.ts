/** The import baseline: an empty middy handler, bundled as the functions are. */
import middy from '@middy/core';

export const handler = middy().handler(async () => ({ statusCode: 200, body: '{}' }));
