"""What an audit shows people and scripts: the self-contained HTML report (``html``),
the ``--json`` documents (``documents``) and what an audit ran on (``inputs``)."""
