"""The platform assembled from its services: the ``odr`` command, the embedded run's gateway and
the platform's AsyncAPI document. This is the one package that names the four services;
``shared/`` knows none of them."""
