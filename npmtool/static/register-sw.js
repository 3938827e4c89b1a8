/* Registers the service worker that keeps checklists usable offline. */
if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () { /* offline copies are a bonus */ });
}
