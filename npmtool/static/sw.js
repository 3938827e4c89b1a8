/* Service worker: keeps a visit's checklist usable inside walls with no network.
 *
 * Static files are served from the cache first. Checklist, preparation and
 * follow-up pages (the facility's open recommendations) are fetched from
 * the network and their last good copy is kept, so a page opened once
 * before entering can be reopened without a connection;
 * answers typed meanwhile wait in localStorage (checklist.js) and are sent
 * when the connection returns. Interview pages and photos are never cached:
 * they must not stay on a tablet that could be taken. */
"use strict";

var CACHE = "npmtool-v1";
var STATIC = ["/static/npmtool.css", "/static/checklist.js", "/static/forms.js", "/static/favicon.svg",
              "/static/findings.css"];
var OFFLINE_PAGES = /^\/visits\/\d+\/(checklist|prepare|follow-up)$|^\/visits\/\d+$/;

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) { return cache.addAll(STATIC); }));
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (key) { return key !== CACHE; }).map(function (key) { return caches.delete(key); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) { return; }
  if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(caches.match(request).then(function (hit) {
      return hit || fetch(request).then(function (response) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
        return response;
      });
    }));
    return;
  }
  if (OFFLINE_PAGES.test(url.pathname)) {
    event.respondWith(fetch(request).then(function (response) {
      if (response.ok && !response.redirected) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
      }
      return response;
    }).catch(function () {
      return caches.match(request).then(function (hit) {
        return hit || new Response("Offline: this page was not opened before the connection was lost.",
                                   { status: 503, headers: { "Content-Type": "text/plain; charset=utf-8" } });
      });
    }));
  }
});
