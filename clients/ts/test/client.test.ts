// End-to-end test of the TypeScript client against a RUNNING Orbit server.
//
//   ORBIT_URL=http://127.0.0.1:8080 ORBIT_TOKEN=orbit_... npm test
//
// ORBIT_TOKEN must be a token of the instance administrator "admin". Every
// scenario runs three times: Connect with JSON, Connect with binary Protobuf, and gRPC
// (HTTP/2 on the same port).

import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";

import {
  Code,
  ConnectError,
  Role,
  createOrbitClients,
  type Member,
  type OrbitClients,
  type Workspace,
} from "../src/index.js";

const ORBIT_URL = process.env.ORBIT_URL ?? "";
const ORBIT_TOKEN = process.env.ORBIT_TOKEN ?? "";
if (ORBIT_URL === "" || ORBIT_TOKEN === "") {
  throw new Error(
    "ORBIT_URL and ORBIT_TOKEN must be set: the URL of a running Orbit server and an API token of its admin user " +
      "(e.g. ORBIT_URL=http://127.0.0.1:8080 ORBIT_TOKEN=orbit_... npm test)",
  );
}

function hex(): string {
  return randomBytes(5).toString("hex");
}

/** Awaits `promise`, which must fail with a ConnectError of `code` (and a message matching `message`). */
async function expectCode(promise: Promise<unknown>, code: Code, message?: RegExp): Promise<ConnectError> {
  let caught: unknown;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  assert.ok(caught !== undefined, `expected the call to fail with ${Code[code]}, but it succeeded`);
  assert.ok(caught instanceof ConnectError, `expected a ConnectError, got ${String(caught)}`);
  assert.equal(caught.code, code, `expected ${Code[code]}, got ${Code[caught.code]}: ${caught.rawMessage}`);
  if (message !== undefined) {
    assert.match(caught.rawMessage, message);
  }
  return caught;
}

/** All workspaces of the caller, one per page; asserts that each page holds at most one. */
async function allWorkspacesOnePerPage(c: OrbitClients): Promise<{ slugs: string[]; pages: number; firstToken: string }> {
  const slugs: string[] = [];
  let pageToken = "";
  let pages = 0;
  let firstToken = "";
  do {
    const res = await c.workspaces.listWorkspaces({ pageSize: 1, pageToken });
    assert.ok(res.workspaces.length <= 1, `page ${pages} holds ${res.workspaces.length} workspaces, asked for 1`);
    slugs.push(...res.workspaces.map((w) => w.slug));
    if (pages === 0) firstToken = res.nextPageToken;
    pageToken = res.nextPageToken;
    pages++;
    assert.ok(pages <= 10_000, "listWorkspaces does not stop paginating");
  } while (pageToken !== "");
  return { slugs, pages, firstToken };
}

async function allMembers(c: OrbitClients, workspaceId: string): Promise<Member[]> {
  const members: Member[] = [];
  let pageToken = "";
  let pages = 0;
  do {
    const res = await c.workspaces.listMembers({ workspaceId, pageToken });
    members.push(...res.members);
    pageToken = res.nextPageToken;
    assert.ok(++pages <= 1_000, "listMembers does not stop paginating");
  } while (pageToken !== "");
  return members;
}

const VARIANTS = [
  { name: "Connect, JSON", opts: { useBinary: false } },
  { name: "Connect, binary Protobuf", opts: { useBinary: true } },
  { name: "gRPC", opts: { protocol: "grpc" as const } },
];

for (const variant of VARIANTS) {
  describe(`Orbit client over ${variant.name}`, () => {
    const c = createOrbitClients(ORBIT_URL, ORBIT_TOKEN, variant.opts);
    const slugA = `ts-${hex()}`;
    const slugB = `ts-${hex()}`;
    let adminId = "";
    let wsA: Workspace;
    let wsB: Workspace;

    before(async () => {
      const me = await c.auth.whoAmI({});
      adminId = me.user?.id ?? "";
    });

    after(async () => {
      // Best-effort cleanup of whatever the tests left behind.
      for (const ws of [wsA, wsB]) {
        if (ws === undefined) continue;
        try {
          await c.workspaces.deleteWorkspace({ id: ws.id, confirmSlug: ws.slug });
        } catch {
          // already deleted by the test, or never fully created
        }
      }
    });

    test("whoAmI returns the admin, an instance administrator", async () => {
      const res = await c.auth.whoAmI({});
      assert.equal(res.user?.login, "admin");
      assert.equal(res.user?.instanceAdmin, true);
      assert.ok(res.user?.id, "the user has an id");
      assert.ok(res.tokenId, "whoAmI names the token that authenticated it");
    });

    test("createWorkspace, then get it by slug and by id", async () => {
      const created = await c.workspaces.createWorkspace({ slug: slugA, name: "TS Client", description: "made by the TS client test" });
      assert.ok(created.workspace, "the response holds the workspace");
      wsA = created.workspace;
      assert.equal(wsA.slug, slugA);
      assert.equal(wsA.name, "TS Client");
      assert.equal(wsA.role, Role.OWNER);
      assert.ok(wsA.id, "the workspace has an id");
      assert.ok(wsA.createTime, "the workspace has a createTime");

      const bySlug = await c.workspaces.getWorkspace({ ref: { case: "slug", value: slugA } });
      assert.equal(bySlug.workspace?.id, wsA.id);
      assert.equal(bySlug.workspace?.slug, slugA);
      assert.equal(bySlug.workspace?.name, "TS Client");
      assert.equal(bySlug.workspace?.role, Role.OWNER);

      const byId = await c.workspaces.getWorkspace({ ref: { case: "id", value: wsA.id } });
      assert.equal(byId.workspace?.id, wsA.id);
      assert.equal(byId.workspace?.slug, slugA);
      assert.equal(byId.workspace?.role, Role.OWNER);
    });

    test("listWorkspaces paginates one by one, each slug exactly once", async () => {
      const created = await c.workspaces.createWorkspace({ slug: slugB, name: "TS Client" });
      assert.ok(created.workspace);
      wsB = created.workspace;

      const { slugs, pages, firstToken } = await allWorkspacesOnePerPage(c);
      assert.notEqual(firstToken, "", "with 2 or more workspaces, the first page of 1 has a nextPageToken");
      assert.ok(pages >= 2, `expected at least 2 pages, got ${pages}`);
      for (const slug of [slugA, slugB]) {
        assert.equal(slugs.filter((s) => s === slug).length, 1, `${slug} appears exactly once over all pages`);
      }
      assert.equal(new Set(slugs).size, slugs.length, `no slug appears twice over all pages: ${slugs.join(", ")}`);
    });

    test("members: add, list, change role, remove; the last owner cannot be demoted", async () => {
      const login = `ts-${hex()}`;
      const user = await c.users.createUser({ login, displayName: "TS User", email: `${login}@example.com` });
      assert.equal(user.user?.login, login);
      const userId = user.user?.id ?? "";
      assert.ok(userId, "the new user has an id");

      const added = await c.workspaces.addMember({ workspaceId: wsA.id, user: login, role: Role.MEMBER });
      assert.equal(added.member?.login, login);
      assert.equal(added.member?.userId, userId);
      assert.equal(added.member?.role, Role.MEMBER);

      let members = await allMembers(c, wsA.id);
      const listed = members.find((m) => m.login === login);
      assert.ok(listed, `listMembers contains ${login}`);
      assert.equal(listed.role, Role.MEMBER);
      assert.equal(members.find((m) => m.userId === adminId)?.role, Role.OWNER, "the admin is an owner");

      const updated = await c.workspaces.updateMemberRole({ workspaceId: wsA.id, userId, role: Role.VIEWER });
      assert.equal(updated.member?.role, Role.VIEWER);
      members = await allMembers(c, wsA.id);
      assert.equal(members.find((m) => m.userId === userId)?.role, Role.VIEWER);

      await c.workspaces.removeMember({ workspaceId: wsA.id, userId });
      members = await allMembers(c, wsA.id);
      assert.equal(members.find((m) => m.userId === userId), undefined, `${login} is no longer a member`);

      await expectCode(
        c.workspaces.updateMemberRole({ workspaceId: wsA.id, userId: adminId, role: Role.MEMBER }),
        Code.FailedPrecondition,
      );
      const ws = await c.workspaces.getWorkspace({ ref: { case: "id", value: wsA.id } });
      assert.equal(ws.workspace?.role, Role.OWNER, "the admin is still the owner");
    });

    test("an invalid slug is InvalidArgument, naming the slug", async () => {
      await expectCode(c.workspaces.createWorkspace({ slug: "Bad Slug", name: "TS Client" }), Code.InvalidArgument, /slug/i);
    });

    test("a duplicate slug is AlreadyExists", async () => {
      await expectCode(c.workspaces.createWorkspace({ slug: slugA, name: "TS Client again" }), Code.AlreadyExists);
    });

    test("a wrong token is Unauthenticated", async () => {
      const wrong = createOrbitClients(ORBIT_URL, `orbit_${randomBytes(16).toString("hex")}`, variant.opts);
      await expectCode(wrong.auth.whoAmI({}), Code.Unauthenticated);
      await expectCode(wrong.workspaces.listWorkspaces({}), Code.Unauthenticated);
    });

    test("getWorkspace of an unknown id is NotFound", async () => {
      await expectCode(c.workspaces.getWorkspace({ ref: { case: "id", value: randomUUID() } }), Code.NotFound);
    });

    test("createToken gives a working secret; revokeToken stops it", async () => {
      const created = await c.auth.createToken({ name: `ts-${hex()}` });
      assert.ok(created.secret.startsWith("orbit_"), `the secret starts with "orbit_"`);
      assert.ok(created.token?.id, "the token has an id");
      assert.ok(created.secret.startsWith(created.token.prefix), "the token's prefix is the start of its secret");

      const withNew = createOrbitClients(ORBIT_URL, created.secret, variant.opts);
      const me = await withNew.auth.whoAmI({});
      assert.equal(me.user?.login, "admin");
      assert.equal(me.tokenId, created.token.id);

      const listed = await c.auth.listTokens({});
      assert.ok(listed.tokens.some((t) => t.id === created.token?.id), "listTokens contains the new token");

      await c.auth.revokeToken({ id: created.token.id });
      await expectCode(withNew.auth.whoAmI({}), Code.Unauthenticated);
    });

    test("deleteWorkspace needs the right confirmSlug; then the workspace is gone", async () => {
      await expectCode(c.workspaces.deleteWorkspace({ id: wsA.id, confirmSlug: slugB }), Code.InvalidArgument);
      // Still there after the refused delete.
      await c.workspaces.getWorkspace({ ref: { case: "id", value: wsA.id } });

      for (const ws of [wsA, wsB]) {
        await c.workspaces.deleteWorkspace({ id: ws.id, confirmSlug: ws.slug });
        await expectCode(c.workspaces.getWorkspace({ ref: { case: "id", value: ws.id } }), Code.NotFound);
        await expectCode(c.workspaces.getWorkspace({ ref: { case: "slug", value: ws.slug } }), Code.NotFound);
      }
    });
  });
}
