"""CSS and the small browser script shared by the UI, the embed view and the document viewer."""

CSS = """
.qa-chat, .qa-results-box { font-size: 15px; line-height: 1.5; }
.qa-empty, .qa-noanswer { padding: 12px; color: #555; background: #f6f7f9; border-radius: 8px; }
.qa-noanswer { border-left: 4px solid #999; }
.qa-notcovered { padding: 8px 12px; margin-bottom: 6px; background: #fff6e5; border-left: 4px solid #d98c00; border-radius: 8px; }
.qa-closest .qa-passage { opacity: .85; }
.qa-turn { margin: 0 0 18px 0; }
.qa-q { font-weight: 600; margin: 6px 0; padding: 8px 12px; background: #eef3ff; border-radius: 8px; display: inline-block; }
.qa-answer { font-size: 16px; padding: 10px 12px; border-left: 4px solid #2f6fde; background: #fafcff; margin: 6px 0; }
.qa-h { font-weight: 600; margin: 10px 0 4px; }
.qa-h-others { color: #a0522d; }
.qa-restored, .qa-meta { color: #666; font-size: 13px; }
.qa-understood { color: #1d4f91; font-size: 13px; margin: 4px 0; }
.qa-h-answer { margin-top: 4px; font-size: 13px; color: #555; }
.qa-ref a { text-decoration: none; color: #2f6fde; font-weight: 600; padding: 0 1px; }
.qa-cite:target { outline: 2px solid #2f6fde; background: #f3f7ff; }
.qa-cite { scroll-margin-top: 80px; }
.qa-confidence { font-size: 13px; margin: 4px 0 8px; padding: 3px 10px; border-radius: 12px; display: inline-block; }
.qa-conf-high { background: #e6f4ea; color: #1e6b34; }
.qa-conf-medium { background: #fff4d6; color: #7a5a00; }
.qa-conf-low { background: #fde8e6; color: #9b2c1f; }
.qa-why { font-weight: 400; }
.qa-k { color: #666; }
.qa-quote-line { font-size: 12px; color: #555; margin: 2px 0 4px; }
.qa-cites, .qa-results { padding-left: 0; list-style: none; }
.qa-cite, .qa-result { margin: 8px 0; padding: 8px 10px; border: 1px solid #e3e6eb; border-radius: 8px; }
.qa-others .qa-cite { border-color: #f0d2c0; background: #fffaf6; }
.qa-cite-head { font-size: 13px; color: #333; }
.qa-src-title { font-weight: 600; }
.qa-passage { margin: 6px 0; padding: 4px 10px; border-left: 3px solid #ddd; white-space: pre-wrap; }
.qa-label { font-weight: 600; color: #a0522d; }
.qa-actions { font-size: 13px; display: flex; gap: 10px; align-items: center; flex-wrap: wrap; }
.qa-quote { color: #555; font-style: italic; font-size: 12px; }
.qa-also { font-size: 13px; color: #333; margin: 2px 0; }
#qa-docs, #qa-docs * { font-family: system-ui, "Segoe UI", Roboto, Arial, sans-serif !important; font-size: 13px; }
#qa-lang .wrap { flex-wrap: nowrap; }
#qa-lang label span { white-space: nowrap; }
mark.hl { background: #fff2a8; padding: 0 1px; }
mark.ans { background: #eaf6ea; }
mark.fig, mark.ans.fig, mark.hl.fig { background: #ffd54f; font-weight: 700; }
.copy-quote { font-size: 12px; padding: 2px 8px; border: 1px solid #bbb; border-radius: 6px; background: #fff; cursor: pointer; }
a.cite-link { color: #2f6fde; }
#qa-modal { position: fixed; inset: 0; background: rgba(0,0,0,.45); z-index: 10000; display: none; }
#qa-modal.open { display: block; }
#qa-modal .box { position: absolute; inset: 4% 6%; background: #fff; border-radius: 10px; overflow: hidden; display: flex; flex-direction: column; }
#qa-modal .bar { display: flex; justify-content: space-between; padding: 6px 12px; background: #f3f4f6; }
#qa-modal iframe { flex: 1; border: 0; width: 100%; }
.qa-status { padding: 8px 12px; background: #fff7e0; border-radius: 8px; }
#qa-start:not(:has(.qa-status)) { display: none !important; }   /* no empty gap once the index is ready */
.qa-status-error { background: #fde8e6; color: #9b2c1f; }
.qa-progress { width: 100%; height: 10px; margin: 6px 0 2px; accent-color: #2f6fde; }
.qa-status-detail { font-size: 12px; color: #666; }
/* The question box stays on screen (at the bottom) however long the conversation above it grows; Gradio's
   overflow: hidden would make its container the (never scrolling) box it sticks to: clip does not. */
.gradio-container { overflow: clip !important; }
#qa-ask-row { position: sticky; bottom: 0; z-index: 20; background: var(--background-fill-primary, #fff);
              padding: 6px 0; box-shadow: 0 -6px 8px -6px rgba(0,0,0,.15); }
#qa-ask-row.qa-top { top: 0; bottom: auto; box-shadow: 0 6px 8px -6px rgba(0,0,0,.15); }   /* embed: box above the answers */
/* Phones: title over a one-line language switch, a narrow Ask button, less padding. */
@media (max-width: 640px) {
  #qa-header { flex-wrap: wrap !important; gap: 4px !important; }
  #qa-header > * { flex: 1 1 100% !important; min-width: 0 !important; width: 100% !important; }
  #qa-header h2 { font-size: 20px; margin: 0 0 2px; }
  #qa-header p { font-size: 13px; margin: 0; }
  #qa-header .form { background: none !important; border: 0 !important; }
  #qa-lang { padding: 4px 8px !important; width: 100% !important; min-width: 0 !important; flex: 1 1 auto !important; }
  #qa-lang .wrap { gap: 6px !important; }
  #qa-lang label { padding: 2px 8px !important; }
  #qa-ask-row { flex-wrap: nowrap !important; gap: 6px !important; padding: 4px 0; }
  #qa-ask-row [data-testid="block-info"] { display: none; }
  #qa-question { padding: 4px !important; }
  #qa-ask-row > * { min-width: 0 !important; }
  #qa-ask { min-width: 56px !important; max-width: 72px; flex: 0 0 auto !important; }
  .gradio-container { padding-left: 6px !important; padding-right: 6px !important; }
  .qa-cite, .qa-result { padding: 6px; }
  .qa-passage { padding: 4px 6px; }
}
"""

# Citations open in a modal viewer (an iframe of /view/...); without script they open in a new tab.
# "Copy citation" writes the quotable reference to the clipboard.
JS = """
<script>
(function () {
  function modal() {
    var m = document.getElementById('qa-modal');
    if (m) return m;
    m = document.createElement('div');
    m.id = 'qa-modal';
    m.innerHTML = '<div class="box" role="dialog" aria-modal="true"><div class="bar"><span class="ttl"></span>' +
      '<button type="button" class="close">\\u2715</button></div><iframe title="document"></iframe></div>';
    m.addEventListener('click', function (e) { if (e.target === m || e.target.closest('.close')) close(); });
    document.body.appendChild(m);
    return m;
  }
  function close() { var m = document.getElementById('qa-modal'); if (m) { m.classList.remove('open'); m.querySelector('iframe').src = 'about:blank'; } }
  document.addEventListener('keydown', function (e) { if (e.key === 'Escape') close(); });
  document.addEventListener('click', function (e) {
    var a = e.target.closest && e.target.closest('a.cite-link');
    if (a && !e.ctrlKey && !e.metaKey && !e.shiftKey) {
      e.preventDefault();
      var m = modal();
      m.querySelector('.ttl').textContent = a.closest('li') ? (a.closest('li').querySelector('.qa-src-title') || {}).textContent || '' : '';
      m.querySelector('iframe').src = a.getAttribute('href');
      m.classList.add('open');
      return;
    }
    var b = e.target.closest && e.target.closest('button.copy-quote');
    if (b) {
      var text = b.getAttribute('data-quote');
      var done = function () { var old = b.textContent; b.textContent = b.getAttribute('data-done'); setTimeout(function () { b.textContent = old; }, 1500); };
      if (navigator.clipboard && window.isSecureContext) { navigator.clipboard.writeText(text).then(done); }
      else { var ta = document.createElement('textarea'); ta.value = text; document.body.appendChild(ta); ta.select(); document.execCommand('copy'); ta.remove(); done(); }
    }
  });
})();
</script>
"""

VIEWER_CSS = """
body { font-family: system-ui, sans-serif; margin: 0; color: #222; }
header { position: sticky; top: 0; background: #f6f7f9; padding: 10px 16px; border-bottom: 1px solid #ddd; }
header h1 { font-size: 17px; margin: 0 0 4px; }
header .meta { font-size: 13px; color: #555; }
main { padding: 8px 0 40vh; font-size: 15px; line-height: 1.55; }
.ln { display: flex; padding: 0 16px; scroll-margin-top: 90px; }
.ln .no { flex: 0 0 3.5em; color: #999; text-align: right; padding-right: 12px; user-select: none; }
.ln .tx { white-space: pre-wrap; flex: 1; min-height: 1.2em; }
.ln.cited { background: #fff2a8; }
.ln.cited .no { color: #8a6d00; font-weight: 700; }
.ln:target .no { text-decoration: underline; }
form { max-width: 320px; margin: 12vh auto; display: flex; flex-direction: column; gap: 10px; font-family: system-ui, sans-serif; }
form input, form button { font-size: 15px; padding: 8px; }
.err { color: #b00020; }
"""
