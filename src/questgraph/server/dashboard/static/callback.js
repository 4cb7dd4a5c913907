// The account-linking demo callback page: decode what the SSO page sent (base64 JSON in the fragment, D31;
// or code and org_scoped_id in the query) and fill it into the page's curl lines. Nothing is sent anywhere.
(() => {
  let fragment = location.hash.slice(1);
  let data = null;
  try {  // a fragment that is not base64 JSON (or not even a URI component) is no answer of the SSO page
    fragment = decodeURIComponent(fragment);
    if (fragment) data = JSON.parse(atob(fragment.replace(/-/g, "+").replace(/_/g, "/")));
  } catch (error) {
    data = null;
  }
  if (!data) {
    const query = new URLSearchParams(location.search);
    if (query.get("code")) data = Object.fromEntries(query);
  }
  if (!data || typeof data.code !== "string") {
    document.getElementById("missing").hidden = false;
    return;
  }
  const osid = String(data.org_scoped_id || data["org-scoped_id"] || "");
  document.getElementById("raw").textContent = fragment || location.search;
  document.getElementById("decoded").textContent = JSON.stringify(data);
  for (const node of document.querySelectorAll("[data-fill=code]")) node.textContent = data.code;
  for (const node of document.querySelectorAll("[data-fill=org_scoped_id]")) node.textContent = osid;
  document.body.dataset.decoded = "1";
})();
