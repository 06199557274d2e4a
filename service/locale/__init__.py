"""The gettext catalogues (``messages.pot``, ``ur/LC_MESSAGES/messages.po``) and their tools."""
