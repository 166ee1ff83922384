"""The mail library: tags, addresses, composing, HTML and SMTP transport.

It takes plain values and imports nothing from Flask, SQLAlchemy or the rest of shopmail, so
it can be tested and reused on its own. Import the submodules directly
(``from shopmail.mail.compose import Mail, compose``); nothing is re-exported here because the
``compose`` function would shadow its own module.
"""
