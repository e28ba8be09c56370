// Kefu page behaviour: CSRF for htmx, toasts, confirmations, dialogs.
(function () {
  function csrf() {
    const m = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }
  document.addEventListener("htmx:configRequest", function (e) {
    e.detail.headers["X-CSRFToken"] = csrf();
  });
  window.kefuToast = function (text, level) {
    const box = document.querySelector(".toast-box");
    if (!box) return;
    const el = document.createElement("div");
    el.className = "toast " + (level || "");
    el.textContent = text;
    box.appendChild(el);
    setTimeout(function () { el.remove(); }, 4000);
  };
  document.addEventListener("kefu:toast", function (e) { window.kefuToast(e.detail.text, e.detail.level); });
  document.addEventListener("htmx:responseError", function (e) {
    window.kefuToast("操作失败：" + (e.detail.xhr.status === 409 ? "该记录已被他人修改，请刷新后重试" : "请稍后重试"), "error");
  });
  document.addEventListener("click", function (e) {
    const opener = e.target.closest("[data-dialog]");
    if (opener) {
      const d = document.getElementById(opener.dataset.dialog);
      if (d) { e.preventDefault(); d.showModal(); }
    }
    const closer = e.target.closest("[data-close]");
    if (closer) { const d = closer.closest("dialog"); if (d) { e.preventDefault(); d.close(); } }
  });
  document.addEventListener("submit", function (e) {
    const msg = e.target.dataset.confirm;
    if (msg && !window.confirm(msg)) { e.preventDefault(); }
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".toast-box .toast").forEach(function (el) {
      setTimeout(function () { el.remove(); }, 5000);
    });
  });
})();
