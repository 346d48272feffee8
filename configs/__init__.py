"""Default settings shipped with renkou (installed as ``linkage.configs``); read them through
``linkage.settings``, never directly: a county's home config and $RENKOU_CONFIG go over them."""
