// Runs on pages with widgets, just before require.js and the ipywidgets html-manager
// (see nb_ipywidgets_js in _config.yml). Two fixes for reading the book offline:
(function () {
  "use strict";
  // Where tools/vendor_assets.py put html-manager's dist/ folder: _static/html-manager/dist/.
  var dist = new URL("html-manager/dist/", document.currentScript.src).href;

  // 1. Icon fonts. Each bundle inside embed-amd.js looks for its fonts beside its own AMD module
  // URL, which require.js makes relative to the page (book/@jupyter-widgets/... -> 404s). Map the
  // module names onto the vendored folder (require.js reads a global `require` object as its
  // configuration when it loads); the html-manager itself also honours the variable below.
  window.require = {
    paths: {
      "@jupyter-widgets/base": dist + "base",
      "@jupyter-widgets/controls": dist + "controls",
      "@jupyter-widgets/html-manager": dist + "index",
      "@jupyter-widgets/html-manager/dist": dist.replace(/\/$/, ""),
    },
  };
  window.__jupyter_widgets_assets_path__ = dist;

  // 2. Labels. The controls typeset widget descriptions with MathJax 2's MathJax.Hub.Queue; the
  // book loads MathJax 3, which has no Hub (console: "reading 'Queue'"). Widgets render on
  // window "load", after this runs on DOMContentLoaded, when the deferred MathJax 3 has started.
  document.addEventListener("DOMContentLoaded", function () {
    var mj = window.MathJax;
    if (!mj || mj.Hub || !mj.startup) return;
    mj.Hub = {
      Queue: function (command) {
        var element = command && command[2];
        if (!element) return;
        mj.startup.promise
          .then(function () { return mj.typesetPromise([element]); })
          .catch(function (err) { console.warn("MathJax could not typeset a widget label", err); });
      },
    };
  });
})();
