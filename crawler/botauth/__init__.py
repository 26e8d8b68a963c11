"""Web Bot Auth (draft-ietf-webbotauth-httpsig-protocol): faircrawl signs every request so sites can verify it.

``httpsig`` builds and checks RFC 9421 signatures (Ed25519), ``keys`` keeps the
key under ``var/`` and publishes it as a JWKS key directory, ``middleware``
signs each request in the downloader.
"""
