from spamflood.cli import entrypoint

entrypoint()
