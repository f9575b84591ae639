import type http from 'node:http';

/**
 * The contract between the fake AWS account's server (server.ts: SigV4, routing by the credential
 * scope's service, denials, the call log) and each service it serves (sts.ts, iam.ts, sns.ts,
 * events.ts, securityhub.ts). A service decodes its own wire protocol and keeps its own state.
 */

/** An identity allowed to call the fake: the operator running `vigil aws setup`, or Vigil itself. */
export interface FakeCaller {
  accessKeyId: string;
  secretAccessKey: string;
  /** e.g. arn:aws:iam::111122223333:user/operator */
  arn: string;
  account: string;
}

/** One request as a service sees it, after the server verified its signature. */
export interface FakeRequest {
  /** The credential scope's service: sts, iam, sns, events, securityhub. */
  service: string;
  /** The credential scope's region. */
  region: string;
  caller: { arn: string; account: string; accessKeyId: string };
  method: string;
  /** Path without the query. */
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface FakeResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Thrown by a service's handler; the service's own `error` turns it into its protocol's error body. */
export class FakeAwsError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface FakeService {
  /** The operation a request names (e.g. 'CreateTopic'), undefined when it names none the fake knows. */
  actionOf(request: FakeRequest): string | undefined;
  /** Whether the operation changes anything (dry runs must make none of these). */
  isMutating(action: string): boolean;
  /** AWS's error document for this protocol. */
  error(status: number, code: string, message: string): FakeResponse;
  /** Answers the operation; throws FakeAwsError for what AWS refuses. Also returns the parsed input, for the call log. */
  handle(request: FakeRequest, action: string): Promise<FakeResponse> | FakeResponse;
  /** The parsed input of a request (form fields or JSON body), for the call log. */
  inputOf(request: FakeRequest): unknown;
}

/** One call the fake received, whatever it answered. */
export interface FakeCallRecord {
  service: string;
  /** 'sns:CreateTopic' style. */
  action: string;
  region: string;
  account: string;
  mutating: boolean;
  status: number;
  errorCode?: string;
  input: unknown;
}

/** Resource tags, as every service stores them. */
export type Tags = Record<string, string>;
