// The demo page: login through @grpc-edge/web-client, then NotesService calls
// through the gateway with the token attached (and refreshed) by its transport.
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { NotesService } from "@grpc-edge/proto/demo/notes/v1/notes";
import { Health, HealthCheckResponse_ServingStatus } from "@grpc-edge/proto/grpc/health/v1/health";
import {
  type AuthState,
  createAuth,
  createGatewayTransport,
  gatewayReason,
  LoginRequiredError,
  requiredScopes,
} from "@grpc-edge/web-client";

interface PageConfig {
  gatewayUrl: string;
  issuer: string;
  clientId: string;
  scope: string;
  audience: string;
  audienceParam: string;
  dpop: boolean;
  users: Array<{ username: string; password: string; name: string; scopes: string[] }>;
}
const config = (window as unknown as { PAGE_CONFIG: PageConfig }).PAGE_CONFIG;

const auth = createAuth({
  authority: config.issuer,
  clientId: config.clientId,
  redirectUri: `${location.origin}/callback`,
  postLogoutRedirectUri: `${location.origin}/signed-out`,
  scope: config.scope,
  dpop: config.dpop,
  ...(config.audienceParam === "resource"
    ? { resource: config.audience }
    : { extraQueryParams: { [config.audienceParam]: config.audience } }),
});

// Counts every call the transport makes, to show that refreshes cost none.
const counts = { calls: 0, failed: 0 };
const counting: Interceptor = (next) => async (req) => {
  counts.calls++;
  try {
    return await next(req);
  } catch (err) {
    counts.failed++;
    throw err;
  } finally {
    $("calls").textContent = String(counts.calls);
    $("failed").textContent = String(counts.failed);
  }
};
const notes = createClient(
  NotesService,
  createGatewayTransport({ baseUrl: config.gatewayUrl, auth, interceptors: [counting] }),
);
// Health is public: a plain transport, no token.
const health = createClient(Health, createGrpcWebTransport({ baseUrl: config.gatewayUrl }));

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const el = (tag: string, text = "", className = "") => {
  const node = document.createElement(tag);
  node.textContent = text;
  if (className) node.className = className;
  return node;
};

function show(message: string, ok: boolean | "info", why = ""): void {
  const status = $("status");
  status.textContent = message;
  status.className = ok === "info" ? "" : ok ? "ok" : "error";
  if (why) status.append(el("span", why, "why"));
}

/** What a refused call means, in words a person can act on. */
function explain(err: ConnectError): string {
  if (err instanceof LoginRequiredError) return `Your session ended (${err.reason}). Log in again.`;
  const reason = gatewayReason(err);
  if (reason === "insufficient_scope") {
    return `The gateway refused it: your session lacks ${requiredScopes(err).join(", ")}. Log in as a user who has it.`;
  }
  if (reason !== undefined) return `The gateway refused it with reason ${reason}.`;
  return "";
}

async function run(label: string, action: () => Promise<string>): Promise<void> {
  try {
    show(`${label}: OK${await action().then((d) => (d ? ` · ${d}` : ""))}`, true);
  } catch (err) {
    const e = ConnectError.from(err);
    show(`${label}: ${Code[e.code]} (${e.code}): ${e.rawMessage}`, false, explain(e));
    if (err instanceof LoginRequiredError) render({ status: "login-required", reason: err.reason });
  }
}

// --- session ---------------------------------------------------------------

let session: AuthState = { status: "signed-out" };
let refreshes = 0;

function logEvent(state: AuthState): void {
  const detail = state.reason ?? state.subject ?? "";
  const line = el("li");
  line.append(
    el("span", `${state.status}${detail ? ` · ${detail}` : ""}`),
    el("small", new Date().toLocaleTimeString()),
  );
  $("session-log").prepend(line);
}

function render(state: AuthState): void {
  if (state.status === "refreshed") refreshes++;
  session = state.status === "refreshed" ? { ...session, ...state } : state;
  const signedIn = session.status === "signed-in" || session.status === "refreshed";
  $("signed-in").hidden = !signedIn;
  $("signed-out").hidden = signedIn;
  $("logout").hidden = !signedIn;
  $("who").textContent = signedIn ? (session.subject ?? "") : "";
  $("refreshes").textContent = String(refreshes);
  if (signedIn) {
    void showBinding();
    $("user").textContent = session.subject ?? "";
    $("scopes").replaceChildren(
      ...(session.scopes ?? []).filter((s) => s.includes(":")).map((s) => el("span", s, "chip")),
    );
  } else if (session.status === "login-required") {
    show("Your session has ended", false, `The provider said ${session.reason}. Log in again.`);
  } else {
    show("Signed out", "info", "Log in to call the service.");
  }
  tick();
}

/** How the token is held: a plain bearer token, or bound to this browser's key (DPoP). */
async function showBinding(): Promise<void> {
  const user = await auth.userManager.getUser();
  $("binding").textContent =
    user?.token_type?.toLowerCase() === "dpop"
      ? "DPoP: the token is bound to a key this page cannot export; every call carries a fresh proof."
      : "Bearer token: whoever holds it can use it.";
}

/** The token countdown, from the expiry the SDK reports; the bar is the share of its lifetime left. */
let lifetimeSeconds = 0;
function tick(): void {
  const { expiresAtMs } = session;
  if (expiresAtMs === undefined) return;
  const left = Math.max(0, Math.round((expiresAtMs - Date.now()) / 1000));
  lifetimeSeconds = Math.max(lifetimeSeconds, left, 1);
  $("expires").textContent = `${left} s`;
  $("meter").style.width = `${(left / lifetimeSeconds) * 100}%`;
}
setInterval(tick, 1000);

auth.subscribe((state) => {
  logEvent(state);
  lifetimeSeconds = 0;
  render(state);
});

// --- calls -------------------------------------------------------------------

async function listNotes(): Promise<number> {
  const items: HTMLElement[] = [];
  for await (const { note } of notes.listNotes({})) {
    if (!note) continue;
    const item = el("li");
    const text = el("span", note.text);
    text.append(el("small", ` · ${note.author || "anonymous"}`));
    const remove = el("button", "Delete");
    remove.dataset.id = note.id;
    remove.onclick = () =>
      run("DeleteNote", async () => {
        await notes.deleteNote({ id: note.id });
        await listNotes();
        return `note ${note.id} deleted`;
      });
    item.append(text, remove);
    items.unshift(item);
  }
  $("notes").replaceChildren(...items);
  return items.length;
}

$("create").onclick = () =>
  run("CreateNote", async () => {
    const { note } = await notes.createNote({ text: $<HTMLInputElement>("note-text").value });
    await listNotes();
    return `note ${note?.id} by ${note?.author}`;
  });

$("echo").onclick = () =>
  run("EchoMetadata", async () => {
    const { headers } = await notes.echoMetadata(
      {},
      { headers: { "x-auth-subject": "forged-by-the-page" } },
    );
    const rows = Object.entries(headers)
      .filter(([name]) => name.startsWith("x-auth-") || name === "x-request-id")
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, value]) => {
        const row = el("tr");
        const code = el("code", value);
        const cell = el("td");
        cell.append(code);
        row.append(el("td", name), cell);
        return row;
      });
    $("upstream").replaceChildren(...rows);
    return `the upstream saw x-auth-subject: ${headers["x-auth-subject"]}`;
  });

let watching: AbortController | undefined;
$("watch").onclick = () => {
  const controller = new AbortController();
  watching = controller;
  $<HTMLButtonElement>("watch").disabled = true;
  $<HTMLButtonElement>("stop").disabled = false;
  void run("WatchNotes", async () => {
    let received = 0;
    try {
      for await (const event of notes.watchNotes(
        { intervalMs: 1000 },
        { signal: controller.signal },
      )) {
        received++;
        const line = el("li");
        line.append(
          el("span", `#${event.sequence} ${event.note?.text ?? "(no notes yet)"}`),
          el("small", new Date().toLocaleTimeString()),
        );
        $("events").prepend(line);
      }
    } catch (err) {
      if (ConnectError.from(err).code !== Code.Canceled) throw err;
    } finally {
      $<HTMLButtonElement>("watch").disabled = false;
      $<HTMLButtonElement>("stop").disabled = true;
    }
    return `stopped after ${received} events`;
  });
};
$("stop").onclick = () => watching?.abort();

$("health").onclick = () =>
  run("Health/Check", async () => {
    const { status } = await health.check({ service: "" });
    $("health-result").textContent = HealthCheckResponse_ServingStatus[status];
    return `${HealthCheckResponse_ServingStatus[status]} (no token sent)`;
  });

$("login").onclick = () => void auth.login({ returnTo: "/" });
$("logout").onclick = () => void auth.logout();

// --- start -------------------------------------------------------------------

for (const user of config.users) {
  const row = el("tr");
  row.append(el("td", user.username), el("td", user.password), el("td", user.scopes.join(" ")));
  $("users").append(row);
}
$("users-card").hidden = config.users.length === 0;

async function start(): Promise<void> {
  if (location.pathname === "/callback") {
    try {
      const { returnTo } = await auth.handleRedirectCallback();
      history.replaceState(null, "", returnTo);
    } catch (err) {
      history.replaceState(null, "", "/");
      show("Login failed", false, ConnectError.from(err).rawMessage);
    }
  } else if (location.pathname === "/signed-out") {
    history.replaceState(null, "", "/");
  }
  const state = await auth.getState();
  render(state);
  if (state.status === "signed-in") {
    show(
      `Signed in as ${state.subject}`,
      true,
      "Create a note, start a stream, or try deleting one.",
    );
    await listNotes().catch(() => undefined);
  }
  document.body.dataset.ready = "true";
}
void start();
