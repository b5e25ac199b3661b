"""The dashboard's client of the HTTP API: commands, the frame inspector, operator writes.

Writes go through the API (not straight to the store) so the gateway's
caches of id tags and registrations are invalidated at once. Every request
carries ``Authorization: Bearer <token>`` when the settings have a token, and
every command and write names the signed-in operator in the header
``X-Chargestream-Operator`` (the API records it as who sent a command).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx
import streamlit as st

from chargestream.domain.settings import Settings

_ANY_ADDRESS = ("", "0.0.0.0", "::")
OPERATOR_HEADER = "X-Chargestream-Operator"


class ApiError(RuntimeError):
    """The API could not be reached or refused the request; the message says why."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status  # the HTTP status, if the API answered


@dataclass(frozen=True)
class CommandResult:
    """A command's outcome as the API reported it (see docs/api.md)."""

    action: str
    outcome: str  # answered, failed, rejected, not_connected, timed_out
    response: dict[str, Any] | None
    error: str | None
    command_id: str | None


class ApiClient:
    def __init__(self, base_url: str, token: str | None, timeout: float) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.base_url = base_url
        self._http = httpx.Client(base_url=base_url, headers=headers, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._http.request(method, path, **kwargs)
        except httpx.TimeoutException:
            raise ApiError(f"the API at {self.base_url} did not answer in time") from None
        except httpx.HTTPError as error:
            raise ApiError(f"cannot reach the API at {self.base_url}: {error}") from None

    def _checked(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self._request(method, path, **kwargs)
        if response.is_error:
            raise ApiError(_detail(response), response.status_code)
        return response

    # -- commands and frames

    def command(
        self, charge_point_id: str, action: str, payload: dict[str, Any], *, operator: str
    ) -> CommandResult:
        """Send an OCPP command for ``operator``: every outcome is a result; API failures raise."""
        response = self._request(
            "POST",
            f"/api/v1/charge-points/{_seg(charge_point_id)}/commands/{_seg(action)}",
            json=payload,
            headers=_sent_by(operator),
        )
        return _command_result(action, response)

    def rotate_password(self, charge_point_id: str, *, operator: str) -> CommandResult:
        """Send the charge point a new random password (the API never shows it)."""
        response = self._request(
            "POST",
            f"/api/v1/charge-points/{_seg(charge_point_id)}/rotate-password",
            headers=_sent_by(operator),
        )
        return _command_result("ChangeConfiguration", response)

    def bulk_command(
        self, charge_point_ids: list[str], action: str, payload: dict[str, Any], *, operator: str
    ) -> list[tuple[str, CommandResult]]:
        """One command to each charge point (POST /commands/bulk): its outcome per charge
        point, in order; a refused request (nothing sent) or API failure raises."""
        response = self._checked(
            "POST",
            "/api/v1/commands/bulk",
            json={"action": action, "payload": payload, "charge_point_ids": charge_point_ids},
            headers=_sent_by(operator),
        )
        results = response.json().get("results")
        if not isinstance(results, list):
            raise ApiError(f"unexpected answer to a bulk command: {type(results).__name__}")
        return [
            (
                str(r["charge_point_id"]),
                CommandResult(
                    action=action,
                    outcome=r["outcome"],
                    response=r.get("response"),
                    error=r.get("error"),
                    command_id=r.get("command_id"),
                ),
            )
            for r in results
        ]

    def frames(self, charge_point_id: str, limit: int) -> list[dict[str, Any]]:
        """The newest raw frame events of a charge point, newest first."""
        response = self._checked(
            "GET", f"/api/v1/charge-points/{_seg(charge_point_id)}/frames", params={"limit": limit}
        )
        frames = response.json()
        if not isinstance(frames, list):
            raise ApiError(f"unexpected answer to a frames request: {type(frames).__name__}")
        return frames

    # -- diagnostics uploads

    def request_diagnostics(
        self, charge_point_id: str, protocol: str, *, operator: str
    ) -> CommandResult:
        """GetDiagnostics with a one-time upload location of the CSMS (``http`` or ``ftp``)."""
        response = self._request(
            "POST",
            f"/api/v1/charge-points/{_seg(charge_point_id)}/diagnostics",
            json={"protocol": protocol},
            headers=_sent_by(operator),
        )
        try:
            body = response.json()
        except ValueError:
            body = None
        command = body.get("command") if isinstance(body, dict) else None
        if not isinstance(command, dict) or "outcome" not in command:
            raise ApiError(_detail(response), response.status_code)
        return CommandResult(
            action=str(command.get("action", "GetDiagnostics")),  # 2.0.1: GetLog
            outcome=command["outcome"],
            response=command.get("response"),
            error=command.get("error"),
            command_id=command.get("command_id"),
        )

    def diagnostics(self, charge_point_id: str) -> list[dict[str, Any]]:
        """The charge point's uploaded diagnostics files, newest first."""
        response = self._checked(
            "GET", f"/api/v1/charge-points/{_seg(charge_point_id)}/diagnostics"
        )
        files = response.json()
        if not isinstance(files, list):
            raise ApiError(f"unexpected answer to a diagnostics request: {type(files).__name__}")
        return files

    def diagnostics_file(self, charge_point_id: str, file_id: str) -> bytes:
        """One uploaded file's content."""
        path = f"/api/v1/charge-points/{_seg(charge_point_id)}/diagnostics/{_seg(file_id)}"
        return self._checked("GET", path).content

    # -- operator data

    def put_id_tag(
        self,
        id_tag: str,
        status: str,
        expiry_date: datetime | None = None,
        parent_id_tag: str | None = None,
        *,
        operator: str,
    ) -> None:
        body = {
            "status": status,
            "expiry_date": expiry_date.isoformat() if expiry_date else None,
            "parent_id_tag": parent_id_tag or None,
        }
        self._checked(
            "PUT", f"/api/v1/id-tags/{_seg(id_tag)}", json=body, headers=_sent_by(operator)
        )

    def set_security_profile(
        self, charge_point_id: str, profile: int | None, *, operator: str
    ) -> None:
        """Pin the charge point's security profile (None: back to the default)."""
        self._checked(
            "PUT",
            f"/api/v1/charge-points/{_seg(charge_point_id)}",
            json={"security_profile": profile},
            headers=_sent_by(operator),
        )

    def local_list(self, charge_point_id: str) -> dict[str, Any] | None:
        """The charge point's local list and how far it is (None: none assigned)."""
        response = self._request("GET", f"/api/v1/charge-points/{_seg(charge_point_id)}/local-list")
        if response.status_code == 404:
            return None
        if response.is_error:
            raise ApiError(_detail(response), response.status_code)
        body: dict[str, Any] = response.json()
        return body

    def put_local_list(
        self, charge_point_id: str, body: dict[str, Any], *, operator: str
    ) -> dict[str, Any]:
        """Assign ``{"mode": "all"}`` or ``{"tags": [...]}``; the CSMS sends it by itself."""
        response = self._checked(
            "PUT",
            f"/api/v1/charge-points/{_seg(charge_point_id)}/local-list",
            json=body,
            headers=_sent_by(operator),
        )
        result: dict[str, Any] = response.json()
        return result

    def delete_id_tag(self, id_tag: str, *, operator: str) -> None:
        self._checked("DELETE", f"/api/v1/id-tags/{_seg(id_tag)}", headers=_sent_by(operator))

    def put_alert_rule(self, rule_id: str, rule: dict[str, Any], *, operator: str) -> None:
        self._checked(
            "PUT", f"/api/v1/alert-rules/{_seg(rule_id)}", json=rule, headers=_sent_by(operator)
        )

    def delete_alert_rule(self, rule_id: str, *, operator: str) -> None:
        self._checked("DELETE", f"/api/v1/alert-rules/{_seg(rule_id)}", headers=_sent_by(operator))

    def put_notification_channel(
        self, channel_id: str, channel: dict[str, Any], *, operator: str
    ) -> None:
        path = f"/api/v1/notification-channels/{_seg(channel_id)}"
        self._checked("PUT", path, json=channel, headers=_sent_by(operator))

    def delete_notification_channel(self, channel_id: str, *, operator: str) -> None:
        path = f"/api/v1/notification-channels/{_seg(channel_id)}"
        self._checked("DELETE", path, headers=_sent_by(operator))

    def test_notification_channel(self, channel_id: str, *, operator: str) -> None:
        path = f"/api/v1/notification-channels/{_seg(channel_id)}/test"
        self._checked("POST", path, headers=_sent_by(operator))

    def acknowledge_alert(self, alert_id: str, *, operator: str) -> None:
        """Acknowledged by ``operator`` (in the body, and named in the header like every write)."""
        self._checked(
            "POST",
            f"/api/v1/alerts/{_seg(alert_id)}/acknowledge",
            json={"by": operator},
            headers=_sent_by(operator),
        )

    def put_site(self, site_id: str, body: dict[str, Any], *, operator: str) -> None:
        self._checked(
            "PUT", f"/api/v1/sites/{_seg(site_id)}", json=body, headers=_sent_by(operator)
        )

    def delete_site(self, site_id: str, *, operator: str) -> None:
        self._checked("DELETE", f"/api/v1/sites/{_seg(site_id)}", headers=_sent_by(operator))

    # -- availability exclusions

    def add_exclusion(self, body: dict[str, Any], *, operator: str) -> None:
        self._checked("POST", "/api/v1/reports/exclusions", json=body, headers=_sent_by(operator))

    def delete_exclusion(self, exclusion_id: str, *, operator: str) -> None:
        self._checked(
            "DELETE",
            f"/api/v1/reports/exclusions/{_seg(exclusion_id)}",
            headers=_sent_by(operator),
        )

    # -- reservations

    def reserve(
        self,
        charge_point_id: str,
        connector_id: int,
        id_tag: str,
        expiry_date: datetime,
        parent_id_tag: str | None,
        *,
        operator: str,
    ) -> dict[str, Any]:
        """Send ReserveNow: the reservation with its ``command`` for every outcome; a request
        the API refuses (unknown charge point, an expiry in the past) raises."""
        body = {
            "connector_id": connector_id,
            "id_tag": id_tag,
            "expiry_date": expiry_date.isoformat(),
            "parent_id_tag": parent_id_tag or None,
        }
        response = self._request(
            "POST",
            f"/api/v1/charge-points/{_seg(charge_point_id)}/reservations",
            json=body,
            headers=_sent_by(operator),
        )
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict) or "command" not in answer:
            raise ApiError(_detail(response), response.status_code)
        return answer

    def cancel_reservation(self, reservation_id: int, *, operator: str) -> CommandResult:
        """Send CancelReservation: every outcome is a result; a refusal (not active) raises."""
        response = self._request(
            "DELETE", f"/api/v1/reservations/{reservation_id}", headers=_sent_by(operator)
        )
        return _command_result("CancelReservation", response)

    # -- charging profiles

    def create_charging_profile(self, profile: dict[str, Any], *, operator: str) -> int:
        """Define a charging profile (the API's body); its new ``profile_id``."""
        response = self._checked(
            "POST", "/api/v1/charging-profiles", json=profile, headers=_sent_by(operator)
        )
        return int(response.json()["profile_id"])

    def delete_charging_profile(self, profile_id: int, *, operator: str) -> None:
        self._checked(
            "DELETE", f"/api/v1/charging-profiles/{profile_id}", headers=_sent_by(operator)
        )

    def install_charging_profile(
        self,
        charge_point_id: str,
        profile_id: int,
        connector_id: int,
        transaction_id: int | None,
        *,
        operator: str,
    ) -> CommandResult:
        """Send SetChargingProfile: every outcome is a result; a refusal (an assignment OCPP
        forbids, an unknown profile) raises."""
        body = {
            "profile_id": profile_id,
            "connector_id": connector_id,
            "transaction_id": transaction_id,
        }
        response = self._request(
            "POST",
            f"/api/v1/charge-points/{_seg(charge_point_id)}/charging-profiles",
            json=body,
            headers=_sent_by(operator),
        )
        return _command_result("SetChargingProfile", response)

    def clear_charging_profile(
        self, charge_point_id: str, profile_id: int, *, operator: str
    ) -> CommandResult:
        """Send ClearChargingProfile for the profile with ``profile_id``."""
        response = self._request(
            "DELETE",
            f"/api/v1/charge-points/{_seg(charge_point_id)}/charging-profiles",
            params={"profile_id": profile_id},
            headers=_sent_by(operator),
        )
        return _command_result("ClearChargingProfile", response)

    def composite_schedule(
        self, charge_point_id: str, connector_id: int, duration: int, unit: str, *, operator: str
    ) -> CommandResult:
        """Send GetCompositeSchedule; the schedule is the result's response."""
        response = self._request(
            "GET",
            f"/api/v1/charge-points/{_seg(charge_point_id)}/composite-schedule",
            params={"connector_id": connector_id, "duration": duration, "unit": unit},
            headers=_sent_by(operator),
        )
        return _command_result("GetCompositeSchedule", response)

    # -- firmware campaigns

    def create_firmware_campaign(self, body: dict[str, Any], *, operator: str) -> dict[str, Any]:
        """POST /firmware-campaigns: the campaign with its progress; a refusal raises."""
        response = self._checked(
            "POST", "/api/v1/firmware-campaigns", json=body, headers=_sent_by(operator)
        )
        answer: dict[str, Any] = response.json()
        return answer

    def cancel_firmware_campaign(self, campaign_id: str, *, operator: str) -> None:
        self._checked(
            "POST",
            f"/api/v1/firmware-campaigns/{_seg(campaign_id)}/cancel",
            headers=_sent_by(operator),
        )


def _command_result(action: str, response: httpx.Response) -> CommandResult:
    """The command record the API answers with: every outcome is a result; API failures raise."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or "outcome" not in body:
        raise ApiError(_detail(response), response.status_code)
    return CommandResult(
        action=action,
        outcome=body["outcome"],
        response=body.get("response"),
        error=body.get("error"),
        command_id=body.get("command_id"),
    )


def _sent_by(operator: str) -> dict[str, str]:
    """The header naming the dashboard operator a request is made for."""
    return {OPERATOR_HEADER: operator}


def _seg(value: str) -> str:
    """One path segment, percent-encoded (ids may contain '/', '?' or '#')."""
    return quote(value, safe="")


def _detail(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    if isinstance(detail, list):  # FastAPI validation errors
        detail = "; ".join(str(item.get("msg", item)) for item in detail)
    return f"the API answered {response.status_code}: {detail or response.text[:200]}"


def api_base_url(settings: Settings) -> str:
    if settings.api_url:
        return settings.api_url.rstrip("/")
    host = "127.0.0.1" if settings.api_host in _ANY_ADDRESS else settings.api_host
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.api_port}"


@st.cache_resource(show_spinner=False, on_release=ApiClient.close)
def _client(base_url: str, token: str | None, timeout: float) -> ApiClient:
    return ApiClient(base_url, token, timeout)


def api(settings: Settings) -> ApiClient:
    """The process-wide API client for these settings."""
    # a command waits up to command_timeout for the charge point, then the API answers
    return _client(api_base_url(settings), settings.api_token, settings.command_timeout + 10)
