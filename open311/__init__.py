"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2) under ``/open311/v2/``.

Sits between ``reports`` and ``api`` in the layers: it reads and writes reports only through the
reports domain's services and public views, with the Scope of an anonymous caller in the
tenant named by ``jurisdiction_id`` (RLS and validation exactly as over GraphQL). Its own table
holds the registered client applications and their hashed api keys (``open311.clients``)."""
