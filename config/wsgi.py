import os

from django.core.wsgi import get_wsgi_application

from warehouse.chunked import chunked_bodies_read_whole

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = chunked_bodies_read_whole(get_wsgi_application())
