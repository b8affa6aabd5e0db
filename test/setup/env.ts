/**
 * Jest setup (setupFiles), before any module of a test file loads: what Lambda itself sets in a
 * function's environment and the service's code reads at import (Powertools tells a cold start
 * by it).
 */
process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'on-demand';
