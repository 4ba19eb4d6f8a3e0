/** The dev provider's own pages: its login form and the sign-out step. */

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const style = `
  body { font: 15px/1.45 system-ui, sans-serif; background: #f4f5f7; color: #1d1d1f; margin: 0; }
  main { max-width: 22rem; margin: 4rem auto; background: #fff; padding: 1.6rem 1.8rem; border-radius: 10px;
         box-shadow: 0 1px 3px rgba(0,0,0,.12); }
  h1 { font-size: 1.15rem; margin: 0 0 .3rem; } p.sub { margin: 0 0 1.2rem; color: #555; font-size: .9rem; }
  label { display: block; font-size: .85rem; margin: .8rem 0 .25rem; }
  input { width: 100%; box-sizing: border-box; padding: .5rem .6rem; font: inherit; border: 1px solid #bbb; border-radius: 6px; }
  button { margin-top: 1.2rem; width: 100%; padding: .6rem; font: inherit; font-weight: 600; color: #fff;
           background: #2157d6; border: 0; border-radius: 6px; cursor: pointer; }
  .error { color: #b00020; font-size: .9rem; margin-top: .8rem; }
  table { font-size: .85rem; border-collapse: collapse; margin-top: 1.2rem; width: 100%; }
  td, th { text-align: left; padding: .2rem .3rem; border-top: 1px solid #eee; }`;

export interface LoginPageUser {
  readonly username: string;
  readonly password: string;
  readonly scopes: readonly string[];
}

export function loginPage(options: {
  action: string;
  clientId: string;
  users: readonly LoginPageUser[];
  error?: string;
  username?: string;
}): string {
  const hint = options.users
    .map(
      (u) =>
        `<tr><td><code>${escapeHtml(u.username)}</code></td><td><code>${escapeHtml(u.password)}</code></td><td>${escapeHtml(u.scopes.join(" "))}</td></tr>`,
    )
    .join("");
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in · grpc-edge dev IdP</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>${style}</style></head><body><main>
<h1>Sign in</h1><p class="sub">grpc-edge development OpenID provider · for <code>${escapeHtml(options.clientId)}</code></p>
<form method="post" action="${escapeHtml(options.action)}" autocomplete="off">
<label for="username">Username</label><input id="username" name="username" required autofocus value="${escapeHtml(options.username ?? "")}">
<label for="password">Password</label><input id="password" name="password" type="password" required>
<button type="submit">Sign in</button>
${options.error ? `<p class="error" role="alert">${escapeHtml(options.error)}</p>` : ""}
</form>
<table><tr><th>user</th><th>password</th><th>scopes</th></tr>${hint}</table>
</main></body></html>`;
}

/** Wraps oidc-provider's logout form so it submits itself: a dev IdP needs no confirmation. */
export function logoutPage(form: string): string {
  const confirmed = form.replace(
    "</form>",
    '<input type="hidden" name="logout" value="yes"></form>',
  );
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Signing out · grpc-edge dev IdP</title>
<style>${style}</style></head><body><main><h1>Signing out…</h1>${confirmed}
<noscript><button form="op.logoutForm" type="submit">Continue</button></noscript>
<script>document.forms[0].submit()</script></main></body></html>`;
}

export function messagePage(title: string, text: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>${style}</style></head><body><main><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p></main></body></html>`;
}
