import { html } from '../html.js';
import { page } from './layout.js';

export function signInPage(options: { csrf: string; next: string; error?: string }): string {
  return page(
    'Sign in',
    html`<div class="signin">
<h1>Sign in to the Veracity console</h1>
<p>This deployment has an admin token (<code>VERACITY_ADMIN_TOKEN</code>). Enter it once; your browser keeps a session cookie for 12 hours that page scripts cannot read.</p>
${options.error ? html`<p class="error" role="alert">${options.error}</p>` : ''}
<form method="post" action="/veracity/sign-in">
<input type="hidden" name="csrf" value="${options.csrf}">
<input type="hidden" name="next" value="${options.next}">
<label for="token">Admin token</label>
<input type="password" id="token" name="token" autocomplete="current-password" required autofocus>
<button type="submit">Sign in</button>
</form>
</div>`,
  );
}
