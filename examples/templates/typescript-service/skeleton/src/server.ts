// {{ name }}: {{ description }}
// Owned by {{ owner }}. Answers GET /healthz with "ok".
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";

const SERVICE = "{{ name }}";
const ROUTES: string[] = [{% for r in routes %}"{{ r }}"{% if not loop.last %}, {% endif %}{% endfor %}];
const port = Number(process.env.PORT ?? "{{ port | int }}");

export function respond(path: string): [number, string] {
  if (path === "/healthz") return [200, "ok\n"];
  if (path === "/" || ROUTES.includes(path)) return [200, `${SERVICE}\n`];
  return [404, "not found\n"];
}

createServer((req: IncomingMessage, res: ServerResponse) => {
  const [status, body] = respond(req.url ?? "/");
  res.writeHead(status, { "content-type": "text/plain" });
  res.end(body);
}).listen(port, () => console.error(`${SERVICE} listening on port ${port}`));
