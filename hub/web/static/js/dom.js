// Building DOM from data. Text always goes in through textContent: nothing a user or an
// agent wrote is ever parsed as HTML (no module assigns markup strings to the DOM).

/**
 * el("div", {class: "card", text: "hi", attrs: {title: "x"}, data: {seq: 3}, on: {click: fn}}, [children])
 * Children may be elements, strings (added as text nodes), or null/false (skipped).
 */
export function el(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  if (props.class) node.className = props.class;
  if (props.text != null) node.textContent = String(props.text);
  if (props.title != null) node.title = String(props.title);
  for (const [name, value] of Object.entries(props.attrs ?? {})) {
    if (value === false || value == null) continue;
    node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const [name, value] of Object.entries(props.data ?? {})) {
    if (value != null) node.dataset[name] = String(value);
  }
  for (const [event, handler] of Object.entries(props.on ?? {})) node.addEventListener(event, handler);
  append(node, children);
  return node;
}

export function append(node, children) {
  for (const child of [children].flat(Infinity)) {
    if (child == null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Replace all children of `node`. */
export function replaceChildren(node, children) {
  node.replaceChildren();
  return append(node, children);
}

/** A <progress> bar with its value (0..1) also readable as data-value by tests and CSS. */
export function progressBar(value, className = "bar") {
  const v = Math.max(0, Math.min(1, Number(value) || 0));
  return el("progress", {
    class: className,
    attrs: { max: "1", value: v.toFixed(3), "aria-valuenow": Math.round(v * 100) },
    data: { value: v.toFixed(3) },
  });
}

/** A selector-safe attribute match, for ids that came from the network. */
export function byData(name, value, root = document) {
  return root.querySelectorAll(`[data-${name}~="${CSS.escape(value)}"]`);
}
