// Starts GraphiQL against the page's own URL (the GraphQL endpoint). Everything it loads
// is served by the hub itself (no CDN), so it works on networks without internet access.
(function () {
  "use strict";
  var endpoint = window.location.pathname;
  var params = new URLSearchParams(window.location.search);
  var fetcher = GraphiQL.createFetcher({
    url: endpoint,
    headers: { Accept: "application/graphql-response+json, application/json" },
  });
  var props = {
    fetcher: fetcher,
    defaultQuery:
      "# Run with Ctrl-Enter or the pink button.\n" +
      "# Docs of every type: book icon, top left.\n" +
      "{\n  clusters(first: 2) {\n    totalCount\n    nodes {\n      slug\n      name\n    }\n  }\n}\n",
  };
  // `/graphql?query=...` (a link someone shared) opens with that query.
  if (params.get("query")) props.query = params.get("query");
  if (params.get("variables")) props.variables = params.get("variables");
  if (params.get("operationName")) props.operationName = params.get("operationName");
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(React.createElement(GraphiQL, props));
})();
