import openapiTS, { astToString, type OpenAPI3 } from 'openapi-typescript';
import prettier from 'prettier';

/** Where the console's API types live: generated from Vigil's own /openapi.json, and committed. */
export const API_TYPES_FILE = 'web/src/api/schema.d.ts';

/** The console's API types for a spec, formatted as the repository formats its files. */
export async function apiTypesOf(spec: OpenAPI3): Promise<string> {
  const body = astToString(await openapiTS(spec));
  const text = `/**\n * Generated from Vigil's /openapi.json by \`npm run openapi\`: do not edit by hand.\n */\n\n${body}`;
  const options = (await prettier.resolveConfig(API_TYPES_FILE)) ?? {};
  return prettier.format(text, { ...options, filepath: API_TYPES_FILE });
}
