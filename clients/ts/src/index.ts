// Orbit API client (orbit.v1) over the Connect protocol, for Node.js.
//
// The message and service types in ./gen are generated from proto/orbit/v1 by
// protoc-gen-es (see buf.gen.yaml); regenerate them with scripts/gen-ts.sh.

import { createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";

import { AuthService, UserService } from "./gen/orbit/v1/auth_pb.js";
import { WorkspaceService } from "./gen/orbit/v1/workspace_pb.js";

export * from "./gen/orbit/v1/auth_pb.js";
export * from "./gen/orbit/v1/common_pb.js";
export * from "./gen/orbit/v1/workspace_pb.js";
export { Code, ConnectError } from "@connectrpc/connect";

export interface OrbitClientOptions {
  /** Send binary Protobuf (application/proto) instead of JSON. Default: false (JSON). */
  useBinary?: boolean;
  /** HTTP version of the transport. Default: "1.1" (always "2" for gRPC). */
  httpVersion?: "1.1" | "2";
  /**
   * The wire protocol: "connect" (default) or "grpc" (unary gRPC over HTTP/2 without TLS,
   * on the same port; binary Protobuf unless `useBinary` is false).
   */
  protocol?: "connect" | "grpc";
}

export interface OrbitClients {
  workspaces: Client<typeof WorkspaceService>;
  users: Client<typeof UserService>;
  auth: Client<typeof AuthService>;
}

/** An interceptor that sends `Authorization: Bearer <token>` with every request. */
export function bearerAuth(token: string): Interceptor {
  return (next) => async (req) => {
    req.header.set("Authorization", `Bearer ${token}`);
    return next(req);
  };
}

/**
 * Builds clients for Orbit's services.
 *
 * @param baseUrl The server's base URL, e.g. `http://127.0.0.1:8080`; RPCs go to
 *   `<baseUrl>/orbit.v1.<Service>/<Method>`.
 * @param token An API token secret (`orbit_...`), sent as a bearer token.
 */
export function createOrbitClients(
  baseUrl: string,
  token: string,
  opts: OrbitClientOptions = {},
): OrbitClients {
  const transport =
    opts.protocol === "grpc"
      ? createGrpcTransport({
          baseUrl,
          useBinaryFormat: opts.useBinary ?? true,
          interceptors: [bearerAuth(token)],
        })
      : createConnectTransport({
          baseUrl,
          httpVersion: opts.httpVersion ?? "1.1",
          useBinaryFormat: opts.useBinary ?? false,
          interceptors: [bearerAuth(token)],
        });
  return {
    workspaces: createClient(WorkspaceService, transport),
    users: createClient(UserService, transport),
    auth: createClient(AuthService, transport),
  };
}
