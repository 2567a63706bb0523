"""Citizens' self-service: signing up with a one-time code, claiming anonymous reports, their
own profile and data, first login through an external identity provider (docs/citizens.md)."""
