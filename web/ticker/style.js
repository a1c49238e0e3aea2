// style.js: the shadow tree's styles, one constructed stylesheet (CSP-safe).

import { h } from './item.js';

const CSS = `
:host{display:block;contain:content;
--bg:var(--ticker-bg,#0b1726);--fg:var(--ticker-fg,#f3f6fa);--muted:var(--ticker-muted,#9fb1c7);
--accent:var(--ticker-accent,#f2b705);--urgent:var(--ticker-urgent,#e4572e);
--flash:var(--ticker-flash-bg,#c8102e);--flash-fg:var(--ticker-flash-fg,#fff);
font:var(--ticker-font-size,15px)/1.2 var(--ticker-font,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif)}
[hidden]{display:none!important}
.bar{position:relative;display:flex;height:var(--ticker-height,46px);background:var(--bg);
color:var(--fg);border-radius:var(--ticker-radius,0);overflow:hidden}
.state{flex:none;display:flex;align-items:center;gap:.5em;padding:0 1em;background:#3b4a5e;
color:#fff;font-size:.75em;font-weight:800;letter-spacing:.08em;text-transform:uppercase;white-space:nowrap}
.state::before{content:"";width:.6em;height:.6em;border-radius:50%;background:currentColor}
[data-state=live] .state{background:var(--flash)}
[data-state$=connecting] .state,[data-state=stale] .state{background:#9a6b00}
[data-state=offline] .view{opacity:.55}
.toggle,.ack{flex:none;border:0;background:none;color:inherit;font:inherit;cursor:pointer}
.toggle{width:2.6em;border-inline-end:1px solid #fff2}
.toggle span{display:inline-block;width:.7em;height:.8em;box-sizing:border-box;border-inline:.24em solid}
.toggle[data-paused] span{border:0;background:currentColor;clip-path:polygon(0 0,100% 50%,0 100%)}
:focus-visible{outline:2px solid var(--accent);outline-offset:-2px}
.view{position:relative;flex:1;overflow:clip;
mask-image:linear-gradient(90deg,#0000,#000 1.5em,#000 calc(100% - 1.5em),#0000)}
ul{position:absolute;inset-block:0;inset-inline-start:0;display:flex;margin:0;padding:0;list-style:none;white-space:nowrap}
li,.item{position:relative;display:flex;align-items:center;gap:.6em;padding-inline:1.4em;unicode-bidi:isolate}
li+li::before{content:"";position:absolute;inset-inline-start:-.2em;width:.4em;height:.4em;background:var(--accent);transform:rotate(45deg)}
.label,.premium{flex:none;padding:.28em .5em;border-radius:3px;font-size:.7em;font-weight:800;letter-spacing:.06em;text-transform:uppercase}
.label{background:var(--accent);color:#111}
[data-priority=urgent] .label{background:var(--urgent)}
[data-priority=flash] .label{background:var(--flash);color:#fff}
.premium{border:1px solid;color:var(--accent)}
time,.source,.related{color:var(--muted);font-size:.85em;font-variant-numeric:tabular-nums}
.headline{font-weight:650}
a{color:inherit;text-decoration:none}
a:hover{text-decoration:underline}
.related,.related>span{display:flex;align-items:center;gap:.5em}
.rel-label::after{content:" ›"}
.still ul{position:static;width:100%}
.still li{flex:1;min-width:0;padding-inline:1em}
.still li::before{display:none}
.still .headline{overflow:hidden;text-overflow:ellipsis}
.flash{position:absolute;inset:0;z-index:1;display:flex;align-items:center;background:var(--flash);color:var(--flash-fg)}
.flash .item{flex:1;min-width:0;overflow:hidden}
.flash .label{background:var(--flash-fg);color:var(--flash)}
.flash time,.flash .source{color:inherit;opacity:.85}
.ack{align-self:stretch;padding:0 1em;font-size:1.1em}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%);white-space:nowrap}
@media (prefers-reduced-motion:no-preference){[data-state=live] .state::before{animation:pulse 2s infinite}}
@keyframes pulse{50%{opacity:.3}}`;

let sheet = null;

/** Style a shadow root. */
export function styleRoot(root) {
  if (!root.adoptedStyleSheets) return root.append(h('style', {}, CSS));
  if (!sheet) (sheet = new CSSStyleSheet()).replaceSync(CSS);
  root.adoptedStyleSheets = [sheet];
}
