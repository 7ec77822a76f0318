"""The browser side of the two HTML panels: small scripts (Gradio ``js_on_load``) and styles."""

SOURCES_JS = """
const reveal = (id) => {
  const card = document.getElementById(id);
  if (!card || card.offsetParent === null) return false;
  card.scrollIntoView({block: 'nearest'});
  card.classList.add('rag-flash');
  setTimeout(() => card.classList.remove('rag-flash'), 1600);
  return true;
};
element.addEventListener('click', (event) => {
  const button = event.target.closest('button.rag-view');
  if (!button) return;
  trigger('click', {
    source: button.dataset.source,
    start: Number(button.dataset.start),
    end: Number(button.dataset.end),
  });
});
if (!window.ragCitationLinks) {
  window.ragCitationLinks = true;
  document.addEventListener('click', (event) => {
    const link = event.target.closest ? event.target.closest('a[href^="#src-"]') : null;
    if (!link) return;
    event.preventDefault();
    event.stopPropagation();
    const id = link.getAttribute('href').slice(1);
    window.ragPendingCard = id;
    if (reveal(id)) { window.ragPendingCard = null; } else { trigger('submit', {card: id}); }
  }, true);
}
const settle = () => setTimeout(() => {
  element.querySelectorAll('.rag-passage').forEach((passage) => {
    const hit = passage.querySelector('mark');
    if (hit) passage.scrollTop = Math.max(0, hit.offsetTop - 24);
  });
  const id = window.ragPendingCard;
  if (id && reveal(id)) window.ragPendingCard = null;
}, 50);
watch('value', settle);
settle();
"""

DOCUMENT_JS = """
const show = () => setTimeout(() => {
  const hit = element.querySelector('#rag-doc-hit');
  if (hit) hit.scrollIntoView({block: 'center'});
}, 80);
watch('value', show);
show();
"""

PANEL_CSS = """
.rag-card { border: 1px solid var(--border-color-primary); border-radius: 8px;
  padding: 10px 12px; margin: 0 0 10px 0; background: var(--block-background-fill);
  transition: box-shadow 0.3s; }
.rag-card.rag-flash { box-shadow: 0 0 0 3px var(--color-accent); }
.rag-card header { font-weight: 600; }
.rag-n { color: var(--color-accent); margin-right: 4px; }
.rag-title { font-style: italic; }
.rag-meta, .rag-for, .rag-empty { color: var(--body-text-color-subdued); font-size: 0.9em; }
.rag-for { margin-bottom: 8px; }
.rag-passage { position: relative; margin: 8px 0; padding: 0 0 0 10px; border-left: 3px solid
  var(--border-color-primary); white-space: pre-wrap; max-height: 16em; overflow: auto; }
mark.rag-hit { background: #fde68a; color: #111; padding: 0 1px; border-radius: 2px; }
.rag-abstained { padding: 8px 10px; margin-bottom: 10px; border-radius: 8px;
  background: var(--background-fill-secondary); }
.rag-related { opacity: 0.9; border-style: dashed; }
.rag-view { cursor: pointer; border: 1px solid var(--border-color-primary); border-radius: 6px;
  padding: 2px 10px; background: var(--button-secondary-background-fill); }
.rag-doc-text { white-space: pre-wrap; max-height: 70vh; overflow: auto; line-height: 1.5;
  padding: 8px; border: 1px solid var(--border-color-primary); border-radius: 8px; }
.rag-page { margin: 8px 0; }
.rag-page img { display: block; max-width: 100%; height: auto; background: #fff;
  border: 1px solid var(--border-color-primary); border-radius: 4px; }
"""
