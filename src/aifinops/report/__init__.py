"""The dashboard's views (``views.build_views``) and their HTML rendering (``render.render_html``)."""
