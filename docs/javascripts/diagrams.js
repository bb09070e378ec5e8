// Renders ```mermaid fences (<pre class="diagram-mermaid">) with the mermaid build that the site
// ships itself (javascripts/vendor/mermaid.tiny.js, copied from the npm package at build time by
// docs/javascripts/vendor_assets.py), so diagrams work offline and never touch a CDN. Mermaid is
// loaded only by pages that have a diagram. Diagrams keep their natural size (text at its
// real font size) inside a horizontally scrolling box instead of being shrunk to the column width.
(function () {
  "use strict";
  var count = 0;
  var here = document.currentScript ? document.currentScript.src : "";
  var loading = null;

  function loadMermaid() {
    if (typeof window.mermaid !== "undefined") {
      return Promise.resolve();
    }
    if (!loading) {
      loading = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = new URL("vendor/mermaid.tiny.js", here || document.baseURI).href;
        script.onload = function () { resolve(); };
        script.onerror = function () { reject(new Error("could not load " + script.src)); };
        document.head.appendChild(script);
      });
    }
    return loading;
  }

  function render() {
    var blocks = document.querySelectorAll("pre.diagram-mermaid");
    if (!blocks.length) {
      return;
    }
    loadMermaid().then(function () { draw(blocks); }, function (error) {
      blocks.forEach(function (pre) { failed(pre, error); });
    });
  }

  function failed(pre, error) {
    pre.classList.add("diagram-error");
    pre.setAttribute("title", "The diagram could not be rendered: " + error);
  }

  function draw(blocks) {
    window.mermaid.initialize({
      startOnLoad: false,
      securityLevel: "strict",
      theme: "default",
      sequence: { useMaxWidth: false, wrap: true, width: 180 },
      flowchart: { useMaxWidth: false },
      state: { useMaxWidth: false },
      class: { useMaxWidth: false },
      er: { useMaxWidth: false }
    });
    blocks.forEach(function (pre) {
      var source = pre.textContent || "";
      var id = "oct-diagram-" + count++;
      window.mermaid.render(id, source).then(
        function (result) {
          var scroll = document.createElement("div");
          scroll.className = "diagram-scroll";
          scroll.setAttribute("tabindex", "0");
          scroll.setAttribute("role", "img");
          scroll.setAttribute("aria-label", "Diagram (scrolls sideways on narrow screens)");
          scroll.innerHTML = result.svg;
          pre.replaceWith(scroll);
        },
        function (error) { failed(pre, error); }
      );
    });
  }

  // Material's instant navigation re-renders pages through document$; a plain page load uses DOMContentLoaded.
  if (typeof window.document$ !== "undefined" && window.document$.subscribe) {
    window.document$.subscribe(render);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", render);
  } else {
    render();
  }
})();
