"""403/404/500 pages: styled like the rest, with a way back, and in plain words."""

from __future__ import annotations

import pytest
from django.template import loader
from django.test import override_settings
from django.urls import path, reverse

from dashboard.urls import urlpatterns as dashboard_urls


def _boom(request):
    raise RuntimeError("a bug")


urlpatterns = [*dashboard_urls, path("boom/", _boom)]


def _templates(response) -> list[str]:
    return [t.name for t in response.templates]


@override_settings(DEBUG=False)
def test_an_unknown_address_gets_the_styled_404_page_with_navigation(owner_client):
    response = owner_client.get("/no-such-page/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "404.html" in _templates(response) and "base.html" in _templates(response)
    assert "<h1" in html and "Page not found" in html
    assert f'href="{reverse("home")}"' in html and f'href="{reverse("line-list")}"' in html


@override_settings(DEBUG=False)
def test_a_refused_action_gets_the_styled_403_page(client, line, shared_user):
    client.force_login(shared_user)
    response = client.get(reverse("line-settings", kwargs={"line_id": line.pk}))
    assert response.status_code == 403
    assert "403.html" in _templates(response)
    assert "Access denied" in response.content.decode()
    assert "ask the owner of the line to share it" in response.content.decode()


@override_settings(DEBUG=False, ROOT_URLCONF=__name__)
def test_a_bug_gets_the_styled_500_page(owner_client):
    owner_client.raise_request_exception = False
    response = owner_client.get("/boom/")
    html = response.content.decode()
    assert response.status_code == 500
    assert "500.html" in _templates(response) and "base.html" in _templates(response)
    assert "Something went wrong" in html and "a bug" not in html
    assert f'href="{reverse("home")}"' in html


@override_settings(DEBUG=False)
def test_the_500_page_renders_without_a_request_or_the_database():
    # Not marked django_db: any query would fail this test. Django renders 500.html with
    # no request and no context processors, as here.
    html = loader.get_template("500.html").render()
    assert "Something went wrong" in html and "Try again in a minute." in html
    assert 'href="/"' in html


@override_settings(DEBUG=False)
def test_a_form_without_its_csrf_token_gets_the_styled_page_and_changes_nothing(line, owner):
    from django.test import Client

    from dashboard.lines.models import Line

    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    response = client.post(reverse("line-settings", kwargs={"line_id": line.pk}), {"label": "X"})
    html = response.content.decode()
    assert response.status_code == 403
    assert "403_csrf.html" in _templates(response) and "base.html" in _templates(response)
    assert "This form could not be sent" in html and "reload the page and try again" in html
    assert "<style" not in html and " style=" not in html  # the strict CSP allows neither
    assert f'href="{reverse("home")}"' in html
    assert Line.objects.get(pk=line.pk).label == line.label


@pytest.mark.parametrize("name", ["403.html", "403_csrf.html", "404.html", "500.html"])
def test_error_pages_are_translated(name, settings):
    from django.utils import translation

    with translation.override("ja"):
        html = loader.get_template(name).render()
    assert "Page not found" not in html and "Access denied" not in html
    assert "Something went wrong" not in html and "This form could not be sent" not in html


def test_every_passing_provider_error_words_its_retry_the_same_way():
    from dashboard.smsmobileapi import errors

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    transient = [e for e in subclasses(errors.UpstreamError) if e.transient]
    assert errors.RateLimited in transient
    for error in transient:
        assert str(error.user_message).endswith("Try again in a minute."), error
