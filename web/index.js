// index.js: the demo page (index.html). A file, not an inline script: tickerd serves
// every page with Content-Security-Policy script-src 'self'.
//
// Show the snippet with this server's own address, and make the copy buttons work.
const origin = location.origin;
document.getElementById('snippet').textContent =
  `<script type="module" src="${origin}/ticker.js"></` + `script>\n` +
  `<news-ticker topics="breaking,world" lang="fr"></news-ticker>`;
for (const b of document.querySelectorAll('.copy')) {
  b.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(document.getElementById(b.dataset.for).textContent);
      b.textContent = 'Copied';
    } catch {
      b.textContent = 'Select and copy';
    }
    setTimeout(() => (b.textContent = 'Copy'), 2000);
  });
}
