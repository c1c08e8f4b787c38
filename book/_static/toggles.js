/* The menu (☰) and "contents" buttons open the chapter list and the page's contents.
 *
 * pydata-sphinx-theme 0.17.1 and sphinx-book-theme 1.3.0 each render a `.primary-toggle`
 * and a `.secondary-toggle` button, and both themes' scripts bind only the first of each
 * that `document.querySelector` finds, so the buttons a reader sees open nothing.
 * Upstream: https://github.com/pydata/pydata-sphinx-theme/issues/2451, and
 * https://github.com/executablebooks/sphinx-book-theme/issues/988 and /917 (fix pending in
 * https://github.com/executablebooks/sphinx-book-theme/pull/1000). Until a release fixes
 * it, every other toggle hands its click to the one the themes bound: on a phone that
 * opens the sidebar as a dialog, on the desktop it shows or hides the sidebar.
 */
document.addEventListener("DOMContentLoaded", () => {
  for (const selector of [".primary-toggle", ".secondary-toggle"]) {
    const [bound, ...others] = document.querySelectorAll(selector);
    for (const button of others) {
      button.addEventListener(
        "click",
        (event) => {
          event.preventDefault();
          event.stopImmediatePropagation();
          button.blur();
          bound.click();
        },
        true, // before any handler of the button itself, so the click acts once
      );
    }
  }
});
