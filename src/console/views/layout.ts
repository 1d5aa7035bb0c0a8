import { html, type Html } from '../html.js';
import { CONSOLE_CSS_PATH } from '../static.js';

export interface PageContext {
  /** The sign-out form's CSRF token, when signed in with a session (a token is set). */
  signOut?: string;
  /** Which nav entry is current. */
  section?: 'overview' | 'flagged' | 'recent' | 'compare' | 'exchange' | 'review';
}

export function page(title: string, body: Html, ctx: PageContext = {}): string {
  const nav = (href: string, label: string, section: PageContext['section']) =>
    html`<li><a href="${href}"${ctx.section === section ? html` aria-current="page"` : ''}>${label}</a></li>`;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title} · Veracity</title>
<link rel="stylesheet" href="${CONSOLE_CSS_PATH}">
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header>
<a class="brand" href="/veracity/">Veracity</a>
<nav aria-label="Console">
<ul>${nav('/veracity/', 'Overview', 'overview')}${nav('/veracity/flagged', 'Flagged exchanges', 'flagged')}${nav('/veracity/exchanges', 'Recent exchanges', 'recent')}${nav('/veracity/compare', 'Compare', 'compare')}${nav('/veracity/review', 'Review', 'review')}</ul>
</nav>
${ctx.signOut ? html`<form method="post" action="/veracity/sign-out"><input type="hidden" name="csrf" value="${ctx.signOut}"><button type="submit">Sign out</button></form>` : ''}
</header>
<main id="main" tabindex="-1">
${body}
</main>
</body>
</html>
`.value;
}

export function errorPage(title: string, message: string, ctx: PageContext = {}): string {
  return page(title, html`<h1>${title}</h1><p>${message}</p><p><a href="/veracity/">Back to the overview</a></p>`, ctx);
}
