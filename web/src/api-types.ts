// GENERATED from web/openapi.json by web/scripts/api-types.mjs: do not edit (npm run gen:api).
// The server's response models (camgrid.api.schemas, camgrid.health.schemas) are the source of truth.

export interface paths {
    "/api/audit/checkpoints": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List Checkpoints
         * @description Signed checkpoints, biggest first, and the log's verifier key (compare its fingerprint with the published).
         */
        get: operations["list_checkpoints_api_audit_checkpoints_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/audit/consistency": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Consistency
         * @description A consistency proof between two signed checkpoints (the older one's tree is a prefix of the newer one's).
         */
        get: operations["consistency_api_audit_consistency_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/audit/entries": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Search
         * @description Entries newest first. A first page (no ``before``) is itself audited (``audit.search``, with its filters).
         */
        get: operations["search_api_audit_entries_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/audit/entries/{index}/proof": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Inclusion
         * @description The entry's inclusion path to the root of a signed checkpoint: of tree size ``size``, else the newest (one is
         *     signed now when the newest does not cover the entry yet).
         */
        get: operations["inclusion_api_audit_entries__index__proof_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/audit/export": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Export
         * @description The whole log, as ``camgrid audit export`` writes it, zipped: unzip and run ``camgrid audit verify DIR --key
         *     PUB``. Audited (``audit.export``) before it is written; auditors of every district only (the log is one tree).
         */
        get: operations["export_api_audit_export_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/audit/transparency": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Transparency
         * @description Per district and month: live views, playbacks, exports, holds, deletions and mask changes, from the log.
         */
        get: operations["transparency_api_audit_transparency_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/auth/login": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Login
         * @description The one route open without a session. Failed logins are throttled (``api.login_throttle``).
         */
        post: operations["login_api_auth_login_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/auth/login/enrol": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Login Enrol
         * @description A user whose role requires a second factor, at their first login: a new secret and recovery codes, shown
         *     this once; the login ends at /login/totp with a first code from the app.
         */
        post: operations["login_enrol_api_auth_login_enrol_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/auth/login/totp": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Login Totp
         * @description The second step: a code from the app (each accepted once) or a recovery code (each used once). Failures are
         *     throttled like passwords, per user and per address, and audited.
         */
        post: operations["login_totp_api_auth_login_totp_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/auth/logout": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Logout
         * @description Ends what was presented: the cookie's session and a bearer token (a script logging out revokes its token).
         */
        post: operations["logout_api_auth_logout_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/auth/me": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Me */
        get: operations["me_api_auth_me_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/cameras": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Cameras
         * @description Columnar, so that 62,000 cameras are one compact document.
         *
         *     The registry's columns are cached per (registry revision, district scope) and serialised once; each request only
         *     adds the current states (one snapshot of the state store) and skips FastAPI's generic encoder. The shape is
         *     ``CameraColumns`` (declared in the OpenAPI document; ``tests/api/test_api_types.py`` checks a real body).
         */
        get: operations["cameras_api_cameras_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/cameras/{camera_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Camera */
        get: operations["camera_api_cameras__camera_id__get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/cameras/{camera_id}/activity": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Activity
         * @description The camera's activity levels of the seconds ``[from_ms, to_ms)`` touches (at most a day; milliseconds, as
         *     everywhere in the API: nanoseconds exceed JavaScript's integers). 404 outside the user's districts. On a
         *     cluster's central node the levels come from the nodes that recorded the camera (``unknown`` lists the parts of a
         *     node that did not answer).
         */
        get: operations["activity_api_cameras__camera_id__activity_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/cameras/{camera_id}/audio": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /**
         * Camera Audio
         * @description Record the camera's sound too, or stop (admins only; off by default; audited first). 404 outside the
         *     user's districts; 503 when the audit log cannot be written.
         */
        put: operations["camera_audio_api_cameras__camera_id__audio_put"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/cameras/{camera_id}/backfill": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Camera Backfill
         * @description The camera's edge backfill jobs, newest gap first (operators, supervisors, admins; 404 outside their
         *     districts).
         */
        get: operations["camera_backfill_api_cameras__camera_id__backfill_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/cameras/{camera_id}/maintenance": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Maintenance
         * @description Take a camera out of service for repair (its outages open no incident) or put it back. 409 when it already
         *     is in the state asked for; 404 outside the user's districts; 503 when the audit log cannot be written.
         */
        post: operations["maintenance_api_cameras__camera_id__maintenance_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/cameras/{camera_id}/mask": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Get Mask */
        get: operations["get_mask_api_cameras__camera_id__mask_get"];
        /**
         * Put Mask
         * @description Set a camera's mask; it is burnt in from the next picture (recording and live). An edit that uncovers any
         *     part of the mask (an empty list: all of it) is only requested (``removal_requested_by`` and ``pending_polygons``
         *     set, the mask in force unchanged), like ``DELETE``: a second person approves it.
         */
        put: operations["put_mask_api_cameras__camera_id__mask_put"];
        post?: never;
        /**
         * Request Removal
         * @description Ask for a mask's removal; it stays until a second person approves.
         */
        delete: operations["request_removal_api_cameras__camera_id__mask_delete"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/cameras/{camera_id}/mask/approve-removal": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Approve Removal
         * @description The second person approves the pending removal or reduction (never its requester); with a body, only the
         *     change they saw.
         */
        post: operations["approve_removal_api_cameras__camera_id__mask_approve_removal_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/cameras/{camera_id}/mask/camera-side": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get Camera Side
         * @description Who burns the mask in: the camera itself (checked) or the recorder (docs/design/camera-side-masks.md).
         */
        get: operations["get_camera_side_api_cameras__camera_id__mask_camera_side_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/cameras/{camera_id}/mask/camera-side/rearm": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Rearm Camera Side
         * @description Trust the camera's own mask again after a failed check: it is set anew and must pass a fresh check before the
         *     camera's pictures are stored as sent; the recorder masks meanwhile.
         */
        post: operations["rearm_camera_side_api_cameras__camera_id__mask_camera_side_rearm_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/cameras/{camera_id}/mask/refuse-removal": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Refuse Removal
         * @description Refuse the pending removal or reduction (its requester may withdraw it): the mask in force stays.
         */
        post: operations["refuse_removal_api_cameras__camera_id__mask_refuse_removal_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/cameras/{camera_id}/motion-search": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Motion Search
         * @description Where something changed in ``region`` of this camera's picture between ``from_ms`` and ``to_ms`` (at most
         *     24 hours). Audited first (503 when the log cannot be written); 404 outside the user's districts; 422 for a bad
         *     range or region (or one entirely under the camera's masks); 503 while other searches are decoding.
         */
        post: operations["motion_search_api_cameras__camera_id__motion_search_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/cameras/{camera_id}/probe": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Probe Camera
         * @description What the camera really sends, measured in a short session of its own (the body's ``seconds``, 1-30, default
         *     5). A camera that refuses or does not answer is a 200 whose ``error`` says why (with what was learnt before);
         *     404 outside the user's districts, 429 before the user's next probe is due, 409 while the camera (or too many
         *     cameras) is being probed, 503 when the audit log or the secrets key is not available.
         */
        post: operations["probe_camera_api_cameras__camera_id__probe_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/cameras/{camera_id}/snapshot.mp4": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Snapshot
         * @description The newest recorded keyframe as a one-picture MP4 (already masked: it comes from storage). Audited.
         */
        get: operations["snapshot_api_cameras__camera_id__snapshot_mp4_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/cameras/{camera_id}/tamper/reference": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Retake Reference
         * @description After a planned move or a new lens: what the camera sees from now on is what it is compared with. Audited.
         */
        post: operations["retake_reference_api_cameras__camera_id__tamper_reference_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/cameras/{camera_id}/timeline": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Timeline */
        get: operations["timeline_api_cameras__camera_id__timeline_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/cameras/discover": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Discover Cameras
         * @description Find ONVIF cameras and propose rows for the ones the registry lacks (complete them, then import). The login
         *     is used on the network only and never answered; 409 while another discovery runs, 422 for a request out of
         *     bounds or a probe that cannot be sent (no route), 503 when the audit log cannot be written.
         */
        post: operations["discover_cameras_api_cameras_discover_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/cameras/import": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Import Cameras
         * @description Import completed rows (atomic: all or none; audited as ``cameras.import``). A password in a row is sealed and
         *     never answered; 404 for a district or camera outside yours, 503 without the audit log or the secrets key.
         */
        post: operations["import_cameras_api_cameras_import_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/cameras/topology": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Topology
         * @description The districts, sites, feeders and uplinks a camera row may name (districts and sites within yours).
         */
        get: operations["topology_api_cameras_topology_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/city": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** City */
        get: operations["city_api_city_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/districts": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Districts */
        get: operations["districts_api_districts_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/evidence/feeder-outage": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Feeder Outage
         * @description A utility's notice that a feeder is out (or restored): optional, lowers the bar for a power incident.
         */
        post: operations["feeder_outage_api_evidence_feeder_outage_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/evidence/ups": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Ups
         * @description A site's UPS telemetry: on battery means its feeder lost power (its cameras may stay up).
         */
        post: operations["ups_api_evidence_ups_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/exports": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List Exports */
        get: operations["list_exports_api_exports_get"];
        put?: never;
        /**
         * Create
         * @description Ask for a clip. Nothing leaves until a second person approves.
         */
        post: operations["create_api_exports_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/exports/{export_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Get Export */
        get: operations["get_export_api_exports__export_id__get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/exports/{export_id}/approve": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Approve
         * @description Someone other than the requester approves: the clip is produced now.
         */
        post: operations["approve_api_exports__export_id__approve_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/exports/{export_id}/files/{name}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Export File */
        get: operations["export_file_api_exports__export_id__files__name__get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/exports/{export_id}/package": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Export Package
         * @description A ready export as one zip (clip, README.html on how to verify it, manifest, signature, key), built while it
         *     streams. Audited before the first byte, as a download of the clip.
         */
        get: operations["export_package_api_exports__export_id__package_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/exports/{export_id}/refuse": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Refuse */
        post: operations["refuse_api_exports__export_id__refuse_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/exports/coverage": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Coverage
         * @description The recorded time and the gaps (with their reasons) inside a range of one camera, at most 6 hours: what an
         *     export of it would hold. A camera outside the user's districts does not exist (404).
         */
        get: operations["coverage_api_exports_coverage_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/holds": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List Holds */
        get: operations["list_holds_api_holds_get"];
        put?: never;
        /** Create */
        post: operations["create_api_holds_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/holds/{hold_id}/release": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Release
         * @description End a hold now (the hold stays listed, with its end): retention may then delete the footage by age.
         */
        post: operations["release_api_holds__hold_id__release_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/incidents": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Incidents
         * @description Newest first: kind, subject, member cameras, times, confidence, suggestions and operator actions.
         */
        get: operations["incidents_api_incidents_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/incidents/{incident_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Incident */
        get: operations["incident_api_incidents__incident_id__get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/incidents/{incident_id}/ack": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Acknowledge */
        post: operations["acknowledge_api_incidents__incident_id__ack_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/incidents/{incident_id}/comment": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Comment */
        post: operations["comment_api_incidents__incident_id__comment_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/incidents/{incident_id}/stills/{which}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Incident Still
         * @description A tamper incident's still (JPEG): what the camera saw before, and what it showed when the alarm was raised.
         */
        get: operations["incident_still_api_incidents__incident_id__stills__which__get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/layouts": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List Layouts */
        get: operations["list_layouts_api_layouts_get"];
        put?: never;
        /** Create */
        post: operations["create_api_layouts_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/layouts/{layout_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /** Replace */
        put: operations["replace_api_layouts__layout_id__put"];
        post?: never;
        /** Delete */
        delete: operations["delete_api_layouts__layout_id__delete"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/layouts/{layout_id}/rename": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Rename */
        post: operations["rename_api_layouts__layout_id__rename_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/live/transcodes": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Transcodes
         * @description The H.265 → H.264 live transcodes this process runs for viewers (a district user sees their cameras').
         */
        get: operations["transcodes_api_live_transcodes_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/map/base": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Base Map
         * @description Streets and buildings as GeoJSON; encoded once per process (tens of thousands of features).
         */
        get: operations["base_map_api_map_base_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/me/settings": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Get Settings */
        get: operations["get_settings_api_me_settings_get"];
        /** Put Settings */
        put: operations["put_settings_api_me_settings_put"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/planner/compare": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Compare
         * @description Two finished runs side by side: value, bound, gap, cameras, each year, coverage by district and category.
         */
        get: operations["compare_api_planner_compare_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/planner/runs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List Runs
         * @description Plan runs in the user's scope, newest first, with their progress.
         */
        get: operations["list_runs_api_planner_runs_get"];
        put?: never;
        /**
         * Start Run
         * @description Queue a plan run (audited); the worker solves it in the background.
         */
        post: operations["start_run_api_planner_runs_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/planner/runs/{run_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get Run
         * @description One run with its progress: objective, bound, gap, steps done (404 outside the user's districts).
         */
        get: operations["get_run_api_planner_runs__run_id__get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/planner/runs/{run_id}/import": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Import Run
         * @description Import the run's planned cameras into the registry with status planned (audited).
         */
        post: operations["import_run_api_planner_runs__run_id__import_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/planner/runs/{run_id}/plan": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Run Plan
         * @description The run's plan as GeoJSON, cut to the user's districts.
         */
        get: operations["run_plan_api_planner_runs__run_id__plan_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/planner/runs/{run_id}/stop": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Stop Run
         * @description Stop a run after its solver's current step; the best plan so far is kept (audited).
         */
        post: operations["stop_run_api_planner_runs__run_id__stop_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/planner/setup": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Planner Setup
         * @description What a run may choose from: the map's districts, camera models, default weights and limits.
         */
        get: operations["planner_setup_api_planner_setup_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/plans": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List Plans
         * @description Plans written by ``camgrid plan --out <home>/plans/NAME.geojson`` (newest first); a user limited to
         *     districts sees the plans with cameras or points in them.
         */
        get: operations["list_plans_api_plans_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/plans/{name}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get Plan
         * @description The plan; cut to the user's districts (their cameras, views and points, their coverage rows).
         */
        get: operations["get_plan_api_plans__name__get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/recorder": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Recorder Health */
        get: operations["recorder_health_api_recorder_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/reports/availability": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Availability
         * @description Share of time recording and outage minutes by cause per group, the city line, lost coverage when asked.
         */
        get: operations["availability_api_reports_availability_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/reports/availability-series": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Availability Series
         * @description Availability per group per time bucket: the "availability over time" plot.
         */
        get: operations["availability_series_api_reports_availability_series_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/reports/availability.csv": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Availability Csv
         * @description The availability table as CSV: the same rows and numbers as ``/reports/availability`` (the user's districts),
         *     camera time in camera-hours, a period of at most 400 days.
         */
        get: operations["availability_csv_api_reports_availability_csv_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/reports/live-coverage": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Live Coverage
         * @description Share of the important points' weight that a recording camera watches right now (the user's districts).
         */
        get: operations["live_coverage_api_reports_live_coverage_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/reports/power-cuts": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Power Cuts
         * @description Feeder reliability ranking (cuts, minutes without power) and the local hours of the day when cuts begin.
         */
        get: operations["power_cuts_api_reports_power_cuts_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/segments/{segment_id}/media": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Segment Media
         * @description The segment's fMP4, ranges honoured. A segment recorded on another node of a cluster is streamed from that
         *     node (``cluster.address``, with that node's credential derived from ``cluster.media_secret``); 503 naming the
         *     node when it is down. ``?codec=h264`` on an H.265 segment: the same pictures as H.264 (whole file, no ranges;
         *     503 while every transcode slot is taken), audited as the native file is.
         */
        get: operations["segment_media_api_segments__segment_id__media_get"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/suggestions/{suggestion_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Decide
         * @description Accept (the registry camera is corrected) or reject a suggested registry correction.
         */
        post: operations["decide_api_suggestions__suggestion_id__post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/users": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List Users */
        get: operations["list_users_api_users_get"];
        put?: never;
        /** Create */
        post: operations["create_api_users_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/users/{username}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Delete
         * @description A tombstone: the audit log keeps naming the user, the name is never given again, they are no longer listed.
         */
        delete: operations["delete_api_users__username__delete"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/users/{username}/2fa/reset": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Reset Two Factor
         * @description Forget the user's second factor (a lost phone): they enrol again at their next login (docs/design/sign-in.md).
         */
        post: operations["reset_two_factor_api_users__username__2fa_reset_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/users/{username}/disable": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Disable
         * @description No more logins; every session, token and open WebSocket of theirs ends.
         */
        post: operations["disable_api_users__username__disable_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/users/{username}/districts": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /** Set Districts */
        put: operations["set_districts_api_users__username__districts_put"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/users/{username}/enable": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Enable */
        post: operations["enable_api_users__username__enable_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/users/{username}/password": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Reset Password
         * @description A new password; every session and token of theirs ends.
         */
        post: operations["reset_password_api_users__username__password_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/users/{username}/revoke": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Revoke
         * @description End every session and token of the user now (they may log in again).
         */
        post: operations["revoke_api_users__username__revoke_post"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/users/{username}/role": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /**
         * Set Role
         * @description Their sessions and tokens end: the new rights apply from their next login.
         */
        put: operations["set_role_api_users__username__role_put"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/users/{username}/tokens": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Tokens */
        get: operations["tokens_api_users__username__tokens_get"];
        put?: never;
        post?: never;
        /** Revoke Tokens */
        delete: operations["revoke_tokens_api_users__username__tokens_delete"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        /** Accepted */
        Accepted: {
            /** Accepted */
            accepted: boolean;
        };
        /** ActionView */
        ActionView: {
            action: components["schemas"]["IncidentAction"];
            /** Actor */
            actor: string;
            /** Id */
            id: number;
            /** T Ms */
            t_ms: number;
            /** Text */
            text: string;
        };
        /**
         * ActivityOut
         * @description One level per second from ``start_s``: 0 = nothing recorded, 65 = as usual for this camera at this hour,
         *     higher = its pictures changed more than usual, lower = less (a collapsed stream: covered, frozen).
         */
        ActivityOut: {
            /** Camera */
            camera: string;
            /**
             * Levels
             * @description 0..255, one per second
             */
            levels: number[];
            /**
             * Start S
             * @description UTC seconds of the first level
             */
            start_s: number;
            /**
             * Unknown
             * @description In a cluster: parts recorded by a node that did not answer (levels 0 there)
             */
            unknown?: components["schemas"]["UnknownOut"][];
        };
        /** ApproveIn */
        ApproveIn: {
            /**
             * Pending Polygons
             * @description The pending change the approver saw (MaskOut.pending_polygons; null: a removal): a different one (withdrawn and replaced meanwhile) is refused with 409
             */
            pending_polygons: number[][][] | null;
        };
        /** AreaIn */
        AreaIn: {
            /**
             * Bbox
             * @description minlat, minlon, maxlat, maxlon
             */
            bbox?: number[] | null;
            /** Districts */
            districts?: string[];
            kind: components["schemas"]["PlanAreaKind"];
        };
        /**
         * AudioIn
         * @description Record a camera's sound too (``enabled``) or stop (docs/design/audio.md).
         */
        AudioIn: {
            /** Enabled */
            enabled: boolean;
        };
        /**
         * AudioOut
         * @description Whether a camera's sound is recorded, after the change (the recorder picks it up within seconds).
         */
        AudioOut: {
            /** Camera */
            camera: string;
            /**
             * Enabled
             * @description Whether the camera's audio track is recorded
             */
            enabled: boolean;
            /** Revision */
            revision: number;
        };
        /** AuditEntryOut */
        AuditEntryOut: {
            /**
             * Action
             * @description An AuditAction (a string here: old logs may hold actions no longer spelt)
             */
            action: string;
            /** At Ms */
            at_ms: number;
            /** Camera */
            camera: string | null;
            /**
             * Data
             * @description The canonical JSON the leaf hashes: SHA-256(0x00 || UTF-8 bytes of data)
             */
            data: string;
            /**
             * District
             * @description The camera's district now (none: an entry without a camera)
             */
            district: string | null;
            /**
             * Index
             * @description The entry's leaf index in the Merkle tree
             */
            index: number;
            /**
             * Leaf Hash
             * @description Hex, as stored
             */
            leaf_hash: string;
            /** Who */
            who: string;
        };
        /** AuditPage */
        AuditPage: {
            /** Entries */
            entries: components["schemas"]["AuditEntryOut"][];
            /**
             * Next Before
             * @description Pass as `before` for the next (older) page; none: the last page
             */
            next_before: number | null;
        };
        /** AvailabilityReport */
        AvailabilityReport: {
            /**
             * By
             * @enum {string}
             */
            by: "camera" | "site" | "feeder" | "uplink" | "district" | "city";
            city: components["schemas"]["AvailabilityRow"] | null;
            /** From Ms */
            from_ms: number;
            /** @description Only with coverage=1 */
            lost_coverage?: components["schemas"]["LostCoverage"] | null;
            /** Rows */
            rows: components["schemas"]["AvailabilityRow"][];
            /** To Ms */
            to_ms: number;
        };
        /** AvailabilityRow */
        AvailabilityRow: {
            /**
             * Availability
             * @description Share of the expected camera time recorded, 0..1: counted only while each camera existed (from its first sight in the recording index) and was not in maintenance; null when nothing was expected
             */
            availability: number | null;
            /**
             * Camera Min
             * @description Camera-minutes the group's cameras existed within the period
             * @default 0
             */
            camera_min: number;
            /** Cameras */
            cameras: number;
            /**
             * Down Min
             * @description Camera-minutes not recorded, maintenance left out
             */
            down_min: number;
            /**
             * Expected Min
             * @description Camera-minutes expected to record: existed, not in maintenance
             * @default 0
             */
            expected_min: number;
            /**
             * Key
             * @description The group: a camera, site, feeder or district id, or 'city'
             */
            key: string;
            /**
             * Outage Min
             * @description Camera-minutes not recorded, by what is to blame; 'maintenance' (a camera out of service) is not down
             */
            outage_min: {
                [key: string]: number;
            };
        };
        /** BackfillJobOut */
        BackfillJobOut: {
            /** Attempts */
            attempts: number;
            /**
             * Detail
             * @description What the card held and what was stored, or why nothing was
             */
            detail: string;
            /**
             * End Ms
             * @description The gap's end (our clock)
             */
            end_ms: number;
            /** Id */
            id: number;
            /**
             * Node
             * @description The recorder node that runs the job
             */
            node: string;
            /**
             * Recovered Ms
             * @description Video stored from the card, in milliseconds
             */
            recovered_ms: number;
            /**
             * Start Ms
             * @description The gap's start (our clock)
             */
            start_ms: number;
            state: components["schemas"]["BackfillState"];
            /** Updated Ms */
            updated_ms: number;
        };
        /** BackfillJobsOut */
        BackfillJobsOut: {
            /** Camera */
            camera: string;
            /** Jobs */
            jobs: components["schemas"]["BackfillJobOut"][];
        };
        /**
         * BackfillState
         * @description Where an edge backfill job stands (the ``backfill_jobs.state`` column; docs/design/onvif.md).
         * @enum {string}
         */
        BackfillState: "pending" | "running" | "done" | "nothing_held" | "failed";
        /**
         * CameraColumns
         * @description Every camera of the user's districts, column by column (index i of each list is one camera): at 62,000
         *     cameras a list of objects would repeat every key 62,000 times. Serialised by hand for speed; this is its shape.
         */
        CameraColumns: {
            /** Count */
            count: number;
            /** District */
            district: string[];
            /**
             * District Names
             * @description Names of these cameras' districts (only those other than the id)
             */
            district_names: {
                [key: string]: string;
            };
            /**
             * Epoch
             * @description The serving process's events epoch (WS /api/events?since=&epoch=)
             */
            epoch: string;
            /**
             * Event Id
             * @description The last event these states contain: apply only later events on top
             */
            event_id: number;
            /** Feeder */
            feeder: string[];
            /**
             * Fov Deg
             * @description Horizontal field of view, whole degrees; null: not known
             */
            fov_deg?: (number | null)[];
            /**
             * Heading Deg
             * @description Compass bearing of the view, whole degrees; null: not known
             */
            heading_deg?: (number | null)[];
            /** Id */
            id: string[];
            /** Lat */
            lat: number[];
            /** Lon */
            lon: number[];
            /**
             * Maintenance Since Ms
             * @description When an operator took the camera out of service for repair; null while it is in service
             */
            maintenance_since_ms: (number | null)[];
            /** Name */
            name: string[];
            /**
             * Range M
             * @description How far the camera sees, whole metres; null: not known
             */
            range_m?: (number | null)[];
            /** Reason */
            reason: (components["schemas"]["GapReason"] | "")[];
            /** Since Ms */
            since_ms: (number | null)[];
            /** Site */
            site: string[];
            /**
             * Site Names
             * @description Names of these cameras' sites (only those other than the id)
             */
            site_names: {
                [key: string]: string;
            };
            /** State */
            state: components["schemas"]["CameraState"][];
            /**
             * Street
             * @description Index into streets (0: no street known)
             */
            street: number[];
            /**
             * Streets
             * @description The streets of these cameras; streets[0] is the empty string
             */
            streets: string[];
            /** Uplink */
            uplink: string[];
        };
        /**
         * CameraCondition
         * @description A camera's own trouble shown beside its health state (never an outage: it does not feed incidents).
         * @enum {string}
         */
        CameraCondition: "clock_off" | "tamper" | "video_loss" | "storage_failure";
        /**
         * CameraEvent
         * @description ``/api/events``: a camera's state changed.
         */
        CameraEvent: {
            /** Id */
            id: string;
            /** Reason */
            reason: components["schemas"]["GapReason"] | "";
            /** Since Ms */
            since_ms: number;
            state: components["schemas"]["CameraState"];
            /**
             * Type
             * @constant
             */
            type: "camera";
        };
        /**
         * CameraEventKind
         * @description What a camera said happened to it, over ONVIF events (``camera_events.kind``; docs/design/onvif.md).
         * @enum {string}
         */
        CameraEventKind: "tamper" | "motion" | "video_loss" | "storage_failure" | "other";
        /**
         * CameraEventOut
         * @description What the camera said happened (ONVIF events), at its own time and at ours (docs/design/onvif.md).
         */
        CameraEventOut: {
            /**
             * Active
             * @description The property's new state: true while tampered, in motion, failed, ...
             */
            active: boolean;
            /**
             * Camera Ms
             * @description The camera's own time of the event (its clock; none if it gave none)
             */
            camera_ms: number | null;
            /** Detail */
            detail: string;
            /** Id */
            id: number;
            kind: components["schemas"]["CameraEventKind"];
            /**
             * Received Ms
             * @description When camgrid received it (our clock)
             */
            received_ms: number;
            /**
             * Topic
             * @description The ONVIF topic, e.g. tns1:VideoSource/MotionAlarm
             */
            topic: string;
        };
        /**
         * CameraIn
         * @description One camera as imported. Credentials in the URL are moved to ``username``/``password``.
         */
        CameraIn: {
            /**
             * District
             * @description Identifier: letters, digits, . _ : -
             */
            district: string;
            /**
             * Feeder
             * @description Identifier: letters, digits, . _ : -
             */
            feeder: string;
            /** Fov Deg */
            fov_deg?: number | null;
            /** Heading Deg */
            heading_deg?: number | null;
            /**
             * Id
             * @description Identifier: letters, digits, . _ : -
             */
            id: string;
            /** Lat */
            lat: number;
            /** Lon */
            lon: number;
            /** Name */
            name: string;
            /**
             * Onvif Url
             * @description Its ONVIF device service (http(s)://host[:port]/onvif/device_service); login as for RTSP
             */
            onvif_url?: string | null;
            /**
             * Password
             * @default
             */
            password: string;
            /** Range M */
            range_m?: number | null;
            /** Rtsp Url */
            rtsp_url: string;
            /**
             * Site
             * @description Identifier: letters, digits, . _ : -
             */
            site: string;
            /**
             * Street
             * @description The street it stands on (found by the camera search)
             */
            street?: string | null;
            /**
             * Sub Rtsp Url
             * @description Low-resolution substream for multi-tile walls
             * @default
             */
            sub_rtsp_url: string;
            /**
             * @description How media travels: auto (the recorder's default), tcp (interleaved) or udp (RTP over UDP)
             * @default auto
             */
            transport: components["schemas"]["RtspTransport"];
            /**
             * Uplink
             * @description Identifier: letters, digits, . _ : -
             */
            uplink: string;
            /**
             * Username
             * @default
             */
            username: string;
        };
        /** CameraOut */
        CameraOut: {
            /**
             * Audio Enabled
             * @description Its sound is recorded too (off by default: docs/design/audio.md)
             * @default false
             */
            audio_enabled: boolean;
            /**
             * Codec
             * @description Codec of the newest recorded segment (h264, h265), none before
             */
            codec: string | null;
            /** District */
            district: string;
            /** Feeder */
            feeder: string;
            /** Fov Deg */
            fov_deg: number | null;
            /** Heading Deg */
            heading_deg: number | null;
            /** Id */
            id: string;
            /** Lat */
            lat: number;
            /** Lon */
            lon: number;
            /** @description The camera's current maintenance window, if any */
            maintenance: components["schemas"]["MaintenanceOut"] | null;
            /** Name */
            name: string;
            /** @description Its clock offset and ONVIF conditions, once camgrid has read them */
            onvif?: components["schemas"]["OnvifHealthOut"] | null;
            /**
             * Onvif Url
             * @description Its ONVIF device service, if it has one (no login in it: docs/design/onvif.md)
             */
            onvif_url?: string | null;
            /** Range M */
            range_m: number | null;
            /** Reason */
            reason: components["schemas"]["GapReason"] | "";
            /**
             * Recorded By
             * @description The cluster node holding the camera's lease
             */
            recorded_by: string | null;
            /** Since Ms */
            since_ms: number | null;
            /** Site */
            site: string;
            state: components["schemas"]["CameraState"];
            /**
             * @description How its media travels: auto (the recorder's default), tcp or udp
             * @default auto
             */
            transport: components["schemas"]["RtspTransport"];
            /** Uplink */
            uplink: string;
        };
        /** CameraSideMaskOut */
        CameraSideMaskOut: {
            /**
             * Failed Ms
             * @description When a check last failed
             */
            failed_ms?: number | null;
            /**
             * Mode
             * @description Who burns the mask in: recorder | camera (the camera's own Media2 mask, its pictures checked) | camera_failed (a check failed: the recorder masks until an admin re-arms)
             */
            mode: string;
            /**
             * Reason
             * @description Why it failed, or why the recorder masks
             */
            reason?: string | null;
            /**
             * Verified Ms
             * @description When a check of the camera's own mask first passed
             */
            verified_ms?: number | null;
        };
        /**
         * CameraState
         * @description What the control room says of a camera.
         * @enum {string}
         */
        CameraState: "recording" | "offline" | "unknown" | "planned";
        /** CheckpointList */
        CheckpointList: {
            /** Checkpoints */
            checkpoints: components["schemas"]["CheckpointOut"][];
            key: components["schemas"]["LogKeyOut"];
            /** Next Before */
            next_before: number | null;
        };
        /** CheckpointOut */
        CheckpointOut: {
            /** At Ms */
            at_ms: number;
            /**
             * Note
             * @description The C2SP signed note (checkpoint body, blank line, signature lines)
             */
            note: string;
            /** Size */
            size: number;
        };
        /** City */
        City: {
            /** Attribution */
            attribution: string;
            /**
             * Bounds
             * @description [west, south, east, north], degrees
             */
            bounds: number[];
            /** Name */
            name: string;
            /** Timezone */
            timezone: string;
        };
        /** CompareOut */
        CompareOut: {
            a: components["schemas"]["PlanSummary"];
            b: components["schemas"]["PlanSummary"];
            /**
             * Common Sites
             * @description Camera sites both plans use
             */
            common_sites: number;
        };
        /** ConsistencyOut */
        ConsistencyOut: {
            new: components["schemas"]["CheckpointOut"];
            old: components["schemas"]["CheckpointOut"];
            /**
             * Path
             * @description RFC 9162 consistency proof from old.size to new.size, hex
             */
            path: string[];
        };
        /** CoverageGap */
        CoverageGap: {
            /** From Ms */
            from_ms: number;
            /** @description The incident the camera was part of then, if any */
            incident?: components["schemas"]["GapIncident"] | null;
            /**
             * Reason
             * @description Why the recorder did not record (the gap's reason)
             */
            reason: string;
            /** To Ms */
            to_ms: number;
        };
        /**
         * CoverageOut
         * @description What a range of a camera holds: recorded time and the gaps inside (before asking for an export).
         */
        CoverageOut: {
            /** Camera */
            camera: string;
            /** First Ms */
            first_ms: number | null;
            /** From Ms */
            from_ms: number;
            /** Gaps */
            gaps: components["schemas"]["CoverageGap"][];
            /** Last Ms */
            last_ms: number | null;
            /** Recorded Ms */
            recorded_ms: number;
            /** To Ms */
            to_ms: number;
        };
        /** Decision */
        Decision: {
            /**
             * Reason
             * @default
             */
            reason: string;
        };
        /** DecisionIn */
        DecisionIn: {
            /** Accept */
            accept: boolean;
        };
        /** DiscoverIn */
        DiscoverIn: {
            /**
             * Addresses
             * @description Addresses and CIDR ranges to probe (at most 4096 addresses in all)
             */
            addresses?: string[];
            /**
             * Call Timeout S
             * @description Seconds per ONVIF call to one camera
             * @default 5
             */
            call_timeout_s: number;
            /**
             * Multicast
             * @description Probe the server's local network by multicast instead of addresses
             * @default false
             */
            multicast: boolean;
            /**
             * Password
             * @default
             */
            password: string;
            /**
             * Port
             * @description WS-Discovery port
             * @default 3702
             */
            port: number;
            /**
             * Timeout S
             * @description Seconds to wait for answers to the probe
             * @default 3
             */
            timeout_s: number;
            /**
             * Username
             * @default
             */
            username: string;
        };
        /**
         * DiscoveryReport
         * @description What a discovery found: new cameras to complete and import, known ones, and those that did not answer.
         */
        DiscoveryReport: {
            /** Failed */
            failed: components["schemas"]["ProposedCamera"][];
            /** Found */
            found: number;
            /** Known */
            known: components["schemas"]["ProposedCamera"][];
            /**
             * Probed
             * @description Addresses probed (0: multicast on the local network)
             */
            probed: number;
            /** Proposed */
            proposed: components["schemas"]["ProposedCamera"][];
        };
        /** DistrictBox */
        DistrictBox: {
            /** Bbox */
            bbox: number[];
            /** Id */
            id: string;
        };
        /** DistrictOut */
        DistrictOut: {
            /** Cameras */
            cameras: number;
            /** Id */
            id: string;
            /** Name */
            name: string;
        };
        /** DistrictsIn */
        DistrictsIn: {
            /**
             * All
             * @description Lift the district limit (an unscoped admin only)
             * @default false
             */
            all: boolean;
            /** Districts */
            districts?: string[];
        };
        /** Ended */
        Ended: {
            /**
             * Ended
             * @description Sessions and tokens ended now (open WebSockets close within a second)
             */
            ended: number;
            /** Username */
            username: string;
        };
        /**
         * EnrolmentOut
         * @description Shown once: add the secret to an authenticator app, keep the recovery codes somewhere safe.
         */
        EnrolmentOut: {
            /** Otpauth Uri */
            otpauth_uri: string;
            /** Recovery Codes */
            recovery_codes: string[];
            /** Secret */
            secret: string;
        };
        /** EnrolTicket */
        EnrolTicket: {
            /** Ticket */
            ticket: string;
        };
        /** ExportFile */
        ExportFile: {
            /** Bytes */
            bytes: number;
            /** Name */
            name: string;
            /**
             * Sha256
             * @description The manifest's digest of the file (none for the manifest itself)
             */
            sha256?: string | null;
        };
        /** ExportIn */
        ExportIn: {
            /** Camera */
            camera: string;
            /**
             * From Ms
             * @description UTC milliseconds since 1970 (before 2200)
             */
            from_ms: number;
            /** Reason */
            reason: string;
            /**
             * To Ms
             * @description UTC milliseconds since 1970 (before 2200)
             */
            to_ms: number;
        };
        /**
         * ExportOut
         * @description An export request and, once approved, what it produced. Creating one returns it ``pending`` with no files:
         *     nothing leaves until a second person approves.
         */
        ExportOut: {
            /**
             * Actual From Ms
             * @description What the clip really contains (from its first keyframe)
             */
            actual_from_ms: number | null;
            /** Actual To Ms */
            actual_to_ms: number | null;
            /** Camera */
            camera: string;
            /** Decided By */
            decided_by: string | null;
            /** Decided Ms */
            decided_ms: number | null;
            /** Decision Reason */
            decision_reason: string | null;
            /** District */
            district: string;
            /** Files */
            files: components["schemas"]["ExportFile"][];
            /** From Ms */
            from_ms: number;
            /** Id */
            id: string;
            /**
             * Note
             * @description Why the last approval did not finish (a cluster node that holds the video is down)
             * @default
             */
            note: string;
            /** Reason */
            reason: string;
            /** Requested By */
            requested_by: string;
            /** Requested Ms */
            requested_ms: number;
            status: components["schemas"]["ExportStatus"];
            /** To Ms */
            to_ms: number;
        };
        /**
         * ExportStatus
         * @description Where a four-eyes export stands (the ``exports.status`` column; docs/design/services-own-invariants.md).
         * @enum {string}
         */
        ExportStatus: "pending" | "ready" | "refused" | "failed";
        /** Feature */
        Feature: {
            geometry: components["schemas"]["Geometry"];
            /** Properties */
            properties: {
                [key: string]: components["schemas"]["JsonValue"];
            };
            /**
             * Type
             * @constant
             */
            type: "Feature";
        };
        /**
         * FeatureCollection
         * @description GeoJSON (RFC 7946): the base map, a plan (``camgrid.planner.output``; its foreign members are kept).
         */
        FeatureCollection: {
            /** Attribution */
            attribution?: string | null;
            /** Bbox */
            bbox?: number[] | null;
            /** Features */
            features: components["schemas"]["Feature"][];
            /** License */
            license?: string | null;
            /**
             * Planner
             * @description A plan's summary: coverage, cost, solver
             */
            planner?: {
                [key: string]: components["schemas"]["JsonValue"];
            } | null;
            /**
             * Type
             * @constant
             */
            type: "FeatureCollection";
        };
        /** FeederCuts */
        FeederCuts: {
            /** Cuts */
            cuts: number;
            /** Feeder */
            feeder: string;
            /** Minutes */
            minutes: number;
        };
        /** FeederOutageIn */
        FeederOutageIn: {
            /** Feeder */
            feeder: string;
            /**
             * State
             * @enum {string}
             */
            state: "out" | "restored";
            /**
             * T Ms
             * @description UTC milliseconds since 1970 (before 2200)
             */
            t_ms: number;
        };
        /**
         * GapCauseOut
         * @description The incident that caused a gap (the longest overlap; a feeder or uplink before the camera's own).
         */
        GapCauseOut: {
            /** Incident Id */
            incident_id: number;
            /** @description power: power cut; uplink: uplink cut; site; camera: the camera alone */
            kind: components["schemas"]["IncidentKind"];
            /** Opened Ms */
            opened_ms: number;
            /**
             * Resolved Ms
             * @description None: the incident is still open
             */
            resolved_ms: number | null;
            /**
             * Subject
             * @description The feeder, uplink, site or camera blamed (not named outside your districts)
             */
            subject: string;
        };
        /** GapIncident */
        GapIncident: {
            /** Kind */
            kind: string;
            /** Subject */
            subject: string;
        };
        /** GapOut */
        GapOut: {
            /** @description The incident behind the gap, when one covers it */
            cause?: components["schemas"]["GapCauseOut"] | null;
            /** Detail */
            detail: string;
            /**
             * End Ms
             * @description None: the gap is still open
             */
            end_ms: number | null;
            reason: components["schemas"]["GapReason"];
            /** Start Ms */
            start_ms: number;
        };
        /**
         * GapReason
         * @description Why an instant of a camera was not recorded (the ``gaps.reason`` column).
         * @enum {string}
         */
        GapReason: "unreachable" | "stalled" | "auth_refused" | "bad_stream" | "refused" | "unsupported" | "packet_loss" | "disk_full" | "disk_slow" | "recorder_not_running" | "starting" | "internal_error";
        /** Geometry */
        Geometry: {
            /** @description GeoJSON coordinates (lon, lat), nested by the geometry's type */
            coordinates: components["schemas"]["JsonValue"];
            /**
             * Type
             * @enum {string}
             */
            type: "Point" | "LineString" | "Polygon" | "MultiPoint" | "MultiLineString" | "MultiPolygon";
        };
        /**
         * Hello
         * @description ``/api/events``: ``hello`` once the client is current (after the events it missed, or after ``resync``: fetch
         *     ``GET /api/cameras`` and apply the events after its ``event_id``), ``ping`` after 15 s of silence. Every camera and
         *     incident message carries its ``eid`` too (docs/design/never-stale.md).
         */
        Hello: {
            /**
             * Eid
             * @description The last event this client has been sent or skipped (scope)
             */
            eid: number;
            /**
             * Epoch
             * @description This process's events epoch: ids of another process mean nothing here
             */
            epoch: string;
            /**
             * Type
             * @enum {string}
             */
            type: "hello" | "ping" | "resync";
        };
        /** HoldIn */
        HoldIn: {
            /** Camera */
            camera: string;
            /**
             * From Ms
             * @description UTC milliseconds since 1970 (before 2200)
             */
            from_ms: number;
            /** Reason */
            reason: string;
            /**
             * To Ms
             * @description UTC milliseconds since 1970 (before 2200)
             */
            to_ms: number;
            /**
             * Until Ms
             * @description When the hold ends (none: until lifted)
             */
            until_ms?: number | null;
        };
        /** HoldOut */
        HoldOut: {
            /** Camera */
            camera: string;
            /** Created By */
            created_by: string;
            /** Created Ms */
            created_ms: number;
            /** From Ms */
            from_ms: number;
            /** Id */
            id: number;
            /** Reason */
            reason: string;
            /** To Ms */
            to_ms: number;
            /**
             * Until Ms
             * @description When the hold ends; none: until lifted
             */
            until_ms: number | null;
        };
        /** HTTPValidationError */
        HTTPValidationError: {
            /** Detail */
            detail?: components["schemas"]["ValidationError"][];
        };
        /** ImportIn */
        ImportIn: {
            /** Rows */
            rows: components["schemas"]["CameraIn"][];
        };
        /** ImportOut */
        ImportOut: {
            /** Cameras */
            cameras: number;
            /** Run */
            run: number;
        };
        /** ImportSummary */
        ImportSummary: {
            /** Added */
            added: number;
            /** Total */
            total: number;
            /** Unchanged */
            unchanged: number;
            /** Updated */
            updated: number;
        };
        /**
         * IncidentAction
         * @description What an operator (or the engine) did on an incident (the ``incident_actions.action`` column).
         * @enum {string}
         */
        IncidentAction: "ack" | "comment" | "accept_suggestion" | "reject_suggestion" | "closed_on_restart";
        /**
         * IncidentEvent
         * @description The events WebSocket's message for one incident change.
         */
        IncidentEvent: {
            /** Acknowledged By */
            acknowledged_by: string | null;
            /** Acknowledged Ms */
            acknowledged_ms: number | null;
            /** Actions */
            actions: components["schemas"]["ActionView"][];
            /**
             * Cameras
             * @description Member cameras, sorted
             */
            cameras: string[];
            /** Confidence */
            confidence: number;
            /** Evidence */
            evidence: string;
            /** Flaps */
            flaps: number;
            /** Id */
            id: number;
            kind: components["schemas"]["IncidentKind"];
            /** Merged Into Id */
            merged_into_id: number | null;
            /** N Members */
            n_members: number;
            /** Opened Ms */
            opened_ms: number;
            /** Reason */
            reason: string | null;
            /** Resolved Ms */
            resolved_ms: number | null;
            /** Subject */
            subject: string;
            /** Suggestions */
            suggestions: components["schemas"]["SuggestionOut"][];
            /**
             * Type
             * @default incident
             * @constant
             */
            type: "incident";
            /**
             * Unexplained
             * @description Cameras dark in its window that it does not explain (own incidents)
             */
            unexplained: string[];
        };
        /**
         * IncidentKind
         * @description What an incident blames (see docs/design/health-incidents.md).
         * @enum {string}
         */
        IncidentKind: "power" | "site" | "uplink" | "camera";
        /**
         * IncidentView
         * @description An incident as the control room sees it (``GET /api/incidents``, ``{"type": "incident"}`` events).
         */
        IncidentView: {
            /** Acknowledged By */
            acknowledged_by: string | null;
            /** Acknowledged Ms */
            acknowledged_ms: number | null;
            /** Actions */
            actions: components["schemas"]["ActionView"][];
            /**
             * Cameras
             * @description Member cameras, sorted
             */
            cameras: string[];
            /** Confidence */
            confidence: number;
            /** Evidence */
            evidence: string;
            /** Flaps */
            flaps: number;
            /** Id */
            id: number;
            kind: components["schemas"]["IncidentKind"];
            /** Merged Into Id */
            merged_into_id: number | null;
            /** N Members */
            n_members: number;
            /** Opened Ms */
            opened_ms: number;
            /** Reason */
            reason: string | null;
            /** Resolved Ms */
            resolved_ms: number | null;
            /** Subject */
            subject: string;
            /** Suggestions */
            suggestions: components["schemas"]["SuggestionOut"][];
            /**
             * Unexplained
             * @description Cameras dark in its window that it does not explain (own incidents)
             */
            unexplained: string[];
        };
        /** InclusionOut */
        InclusionOut: {
            checkpoint: components["schemas"]["CheckpointOut"];
            /** Index */
            index: number;
            /** Leaf Hash */
            leaf_hash: string;
            /**
             * Path
             * @description RFC 9162 inclusion path, hex, leaf to root
             */
            path: string[];
            /** Size */
            size: number;
        };
        JsonValue: unknown;
        /** LayoutIn */
        LayoutIn: {
            /**
             * Cameras
             * @description The camera of each tile, in order; null or empty: an empty tile
             */
            cameras: (string | null)[];
            /** Name */
            name: string;
            /**
             * Size
             * @description Tiles: 1, 4, 9 or 16
             */
            size: number;
        };
        /** LayoutOut */
        LayoutOut: {
            /**
             * Cameras
             * @description One per tile; null: empty, or a camera you no longer see
             */
            cameras: (string | null)[];
            /**
             * Dropped
             * @description Cameras of the saved layout you no longer see (dropped from it here)
             */
            dropped: number;
            /** Id */
            id: number;
            /** Name */
            name: string;
            /** Size */
            size: number;
            /** Updated Ms */
            updated_ms: number;
        };
        /**
         * LiveCodec
         * @description ``/api/live/{camera}``: the stream's MSE type, before its init segment (binary frames are fMP4).
         */
        LiveCodec: {
            /** Codec */
            codec: string;
            /** Mime */
            mime: string;
            /**
             * @description native, or h264-transcode: H.265 made H.264 by the server for this viewer
             * @default native
             */
            path: components["schemas"]["VideoPath"];
            /**
             * Type
             * @constant
             */
            type: "codec";
        };
        /** LiveCoverage */
        LiveCoverage: {
            /** Cameras Up */
            cameras_up: number;
            /** Points */
            points: number;
            /** Share */
            share: number;
        };
        /**
         * LiveOffline
         * @description ``/api/live/{camera}``: no video, and why.
         */
        LiveOffline: {
            /** Reason */
            reason: components["schemas"]["GapReason"] | "";
            /** Since Ms */
            since_ms: number | null;
            /**
             * Type
             * @constant
             */
            type: "offline";
        };
        /**
         * LiveOrigin
         * @description ``/api/live/{camera}``: the wall-clock time of media time 0 (to show the picture's time).
         */
        LiveOrigin: {
            /**
             * Type
             * @constant
             */
            type: "origin";
            /** Wall Ms */
            wall_ms: number;
        };
        /**
         * LiveTranscode
         * @description ``GET /api/live/transcodes``: one running H.265 → H.264 live transcode.
         */
        LiveTranscode: {
            /**
             * Busy S
             * @description thread CPU seconds spent decoding and encoding
             */
            busy_s: number;
            /** Dropped */
            dropped: number;
            /** Failures */
            failures: number;
            /** Frames In */
            frames_in: number;
            /** Frames Out */
            frames_out: number;
            /**
             * Key
             * @description camera id, #sub for its substream, #h264 for the H.264 twin
             */
            key: string;
            /** Viewers */
            viewers: number;
        };
        /**
         * LiveTranscodeLimit
         * @description ``/api/live/{camera}?codec=h264``: every transcode slot of the server is taken (``live.max_transcodes``).
         */
        LiveTranscodeLimit: {
            /** Limit */
            limit: number;
            /**
             * Type
             * @constant
             */
            type: "transcode_limit";
        };
        /**
         * LiveTranscodes
         * @description ``GET /api/live/transcodes``: the process's running transcodes, its limit, and how many were ever started.
         */
        LiveTranscodes: {
            /** Limit */
            limit: number;
            /** Running */
            running: components["schemas"]["LiveTranscode"][];
            /** Started */
            started: number;
        };
        /** Login */
        Login: {
            /** Password */
            password: string;
            /** Username */
            username: string;
        };
        /** LoginThrottled */
        LoginThrottled: {
            /** Detail */
            detail: string;
            /** Retry After S */
            retry_after_s: number;
        };
        /** LogKeyOut */
        LogKeyOut: {
            /**
             * Fingerprint
             * @description SHA-256 of the verifier key text, hex: compare with the published one
             */
            fingerprint: string;
            /**
             * Key Id
             * @description Hex of the 4-byte note key id
             */
            key_id: string;
            /**
             * Name
             * @description The key name, also the log's origin
             */
            name: string;
            /**
             * Public Key
             * @description Base64 of the 32-byte Ed25519 public key
             */
            public_key: string;
            /**
             * Verifier
             * @description The note verifier key <name>+<id>+<base64(0x01||key)> (key.pub)
             */
            verifier: string;
        };
        /** LostCoverage */
        LostCoverage: {
            /** Lost Weight H */
            lost_weight_h: number;
            /** Share */
            share: number;
            /** Weight Total */
            weight_total: number;
        };
        /**
         * MaintenanceIn
         * @description Take a camera out of service for repair (``on``) or put it back, with a note for the next shift.
         */
        MaintenanceIn: {
            /**
             * Note
             * @default
             */
            note: string;
            /** On */
            on: boolean;
        };
        /**
         * MaintenanceOut
         * @description A maintenance window: open (``until_ms`` null) while the camera is in maintenance.
         */
        MaintenanceOut: {
            /** By */
            by: string;
            /** Camera */
            camera: string;
            /** Note */
            note: string;
            /**
             * On
             * @description Whether the camera is in maintenance after this change
             */
            on: boolean;
            /** Since Ms */
            since_ms: number;
            /** Until Ms */
            until_ms: number | null;
        };
        /** MapOut */
        MapOut: {
            /**
             * City Planner
             * @description Whether a whole-map run uses the city planner (tiles, proven bound)
             */
            city_planner: boolean;
            /**
             * Kind
             * @description An OSM map, or a synthetic city (camgrid plan city-gen)
             * @enum {string}
             */
            kind: "osm" | "city-gen";
            /**
             * Km2
             * @description Area of the map
             */
            km2: number;
            /**
             * Max District Km2
             * @description Largest district or box run; larger areas: plan the whole city
             */
            max_district_km2: number;
            /** Synthetic */
            synthetic: boolean;
        };
        /** MaskIn */
        MaskIn: {
            /**
             * Polygons
             * @description Polygons in fractions of the picture: [[[x, y], ...], ...]
             */
            polygons: number[][][];
        };
        /** MaskOut */
        MaskOut: {
            /**
             * Pending Polygons
             * @description The smaller mask a pending reduction asks for (none with a request: a removal)
             */
            pending_polygons?: number[][][] | null;
            /**
             * Polygons
             * @description The mask in force, in fractions of the picture: [[[x, y], ...], ...]
             */
            polygons: number[][][];
            /**
             * Removal Requested By
             * @description Who asked for the pending removal or reduction (none: nothing pending); a second person decides
             */
            removal_requested_by: string | null;
            /**
             * Requested Ms
             * @description When the pending removal or reduction was asked for
             */
            requested_ms?: number | null;
            /**
             * Revision
             * @description 0: no mask
             */
            revision: number;
            /** Updated By */
            updated_by?: string | null;
            /** Updated Ms */
            updated_ms?: number | null;
        };
        /** Me */
        Me: {
            /**
             * Districts
             * @description The user's districts; empty: all
             */
            districts: string[];
            /**
             * Permissions
             * @description The role's permissions (access.policy), for the control room
             */
            permissions: string[];
            role: components["schemas"]["Role"];
            /**
             * Screens
             * @description The control-room screens the role may open (access.screens), menu order
             */
            screens: string[];
            /**
             * Timezone
             * @description The city's IANA time zone: the control room shows times in it
             */
            timezone: string;
            /** Username */
            username: string;
        };
        /** ModelOut */
        ModelOut: {
            /** Cost */
            cost: number;
            /** Fov Deg */
            fov_deg: number;
            /** Name */
            name: string;
            /** Range M */
            range_m: number;
        };
        /** MotionHitOut */
        MotionHitOut: {
            /** End Ms */
            end_ms: number;
            /**
             * Score
             * @description The largest share of the searched area that changed (0..1)
             */
            score: number;
            /** Start Ms */
            start_ms: number;
            /**
             * Thumb
             * @description A small JPEG of the change as a data: URL, black under the camera's masks
             */
            thumb: string;
        };
        /** MotionSearchIn */
        MotionSearchIn: {
            /**
             * From Ms
             * @description UTC milliseconds since 1970 (before 2200)
             */
            from_ms: number;
            /**
             * Region
             * @description The area searched: a polygon of [x, y] fractions
             */
            region: number[][];
            /**
             * To Ms
             * @description UTC milliseconds since 1970 (before 2200)
             */
            to_ms: number;
        };
        /** MotionSearchOut */
        MotionSearchOut: {
            /**
             * Active S
             * @description Seconds the activity data called active
             */
            active_s: number;
            /** Camera */
            camera: string;
            /**
             * Frames
             * @description Pictures between keyframes decoded (candidate windows)
             */
            frames: number;
            /** From Ms */
            from_ms: number;
            /** Hits */
            hits: components["schemas"]["MotionHitOut"][];
            /**
             * Keyframes
             * @description Keyframes decoded
             */
            keyframes: number;
            /**
             * Masked
             * @description The camera's privacy masks were taken out of the region
             */
            masked: boolean;
            /**
             * Narrowed
             * @description Activity data narrowed the range (false: every keyframe was looked at)
             */
            narrowed: boolean;
            /**
             * No Data S
             * @description Seconds without activity data (searched whole)
             */
            no_data_s: number;
            /** Segments */
            segments: number;
            /** To Ms */
            to_ms: number;
            /**
             * Truncated
             * @description More changes than hits: the strongest were kept
             */
            truncated: boolean;
            /**
             * Unreadable
             * @description Segments that could not be read (gone, damaged, or their node is down)
             */
            unreadable: number;
        };
        /** Named */
        Named: {
            /** Id */
            id: string;
            /** Name */
            name: string;
        };
        /**
         * OnvifHealthOut
         * @description A camera's ONVIF side: its clock against ours, and its own trouble (never an outage: no incident).
         */
        OnvifHealthOut: {
            /** Clock Measured Ms */
            clock_measured_ms: number | null;
            /**
             * Clock Offset Ms
             * @description Camera clock minus ours at the last reading; none before one
             */
            clock_offset_ms: number | null;
            /** Clock Round Trip Ms */
            clock_round_trip_ms: number | null;
            /**
             * Clock Tolerance Ms
             * @description Beyond this the camera's clock is 'off' (onvif.clock_tolerance_s)
             */
            clock_tolerance_ms: number;
            /**
             * Condition Since Ms
             * @description When each condition began (our clock)
             */
            condition_since_ms: {
                [key: string]: number;
            };
            /**
             * Conditions
             * @description clock_off, tamper, video_loss, storage_failure
             */
            conditions: components["schemas"]["CameraCondition"][];
        };
        /** PasswordIn */
        PasswordIn: {
            /** Password */
            password: string;
        };
        /** PhaseSummary */
        PhaseSummary: {
            /** Adds */
            adds: number;
            /** Budget */
            budget: number;
            /** Cameras */
            cameras: number;
            /** Cost */
            cost: number;
            /** Objective */
            objective: number;
            /** Phase */
            phase: number;
        };
        /**
         * PlanAreaKind
         * @description What a plan run covers.
         * @enum {string}
         */
        PlanAreaKind: "city" | "districts" | "bbox";
        /** PlanInfo */
        PlanInfo: {
            /** Bytes */
            bytes: number;
            /** Modified Ms */
            modified_ms: number;
            /** Name */
            name: string;
        };
        /** PlannerSetup */
        PlannerSetup: {
            /** Districts */
            districts: components["schemas"]["DistrictBox"][];
            map: components["schemas"]["MapOut"];
            /**
             * Map Bbox
             * @description minlat, minlon, maxlat, maxlon of the map runs plan on
             */
            map_bbox: number[];
            /** Max Budget */
            max_budget: number;
            /** Max Years */
            max_years: number;
            /** Models */
            models: components["schemas"]["ModelOut"][];
            /** Solver */
            solver: string;
            /**
             * Weights
             * @description Default weights (POI tags, junction, street)
             */
            weights: {
                [key: string]: number;
            };
        };
        /**
         * PlanRunState
         * @description Where a plan run stands (the ``plan_runs.state`` column; docs/design/planner-screen.md).
         * @enum {string}
         */
        PlanRunState: "queued" | "running" | "done" | "stopped" | "failed" | "interrupted";
        /** PlanSummary */
        PlanSummary: {
            /** Bound */
            bound: number | null;
            /**
             * By Category
             * @description Share of each category's weight covered
             */
            by_category: {
                [key: string]: number;
            };
            /**
             * By District
             * @description Share of each district's weight covered
             */
            by_district: {
                [key: string]: number;
            };
            /** Cameras */
            cameras: number;
            /** Coverage Share */
            coverage_share: number | null;
            /** Gap */
            gap: number | null;
            /** Objective */
            objective: number | null;
            /** Phases */
            phases: components["schemas"]["PhaseSummary"][];
            run: components["schemas"]["RunOut"];
        };
        /** PowerCutReport */
        PowerCutReport: {
            /**
             * Feeders
             * @description Worst first
             */
            feeders: components["schemas"]["FeederCuts"][];
            /** From Ms */
            from_ms: number;
            /**
             * Hour Of Day
             * @description Cuts beginning in each local hour, 0..23
             */
            hour_of_day: number[];
            /** Timezone */
            timezone: string;
            /** To Ms */
            to_ms: number;
        };
        /** ProbeFailure */
        ProbeFailure: {
            /** Detail */
            detail: string;
            /**
             * Reason
             * @description the gap reason the recorder would store (vocabulary.GapReason)
             */
            reason: string;
        };
        /** ProbeIn */
        ProbeIn: {
            /**
             * Seconds
             * @description measuring window
             * @default 5
             */
            seconds: number;
        };
        /**
         * ProbeResult
         * @description What a camera sent during a probe. Every measurement is None when the window held too little to tell.
         */
        ProbeResult: {
            /**
             * Bitrate Kbps
             * @description video payload, kbit per second of RTP time
             */
            bitrate_kbps?: number | null;
            /** Camera */
            camera: string;
            /**
             * Codec
             * @description h264 or h265 (the recorded video track)
             * @default
             */
            codec: string;
            /**
             * Codec String
             * @description RFC 6381 codecs value (avc1..., hvc1...)
             * @default
             */
            codec_string: string;
            /**
             * Declared Fps
             * @description a=framerate of the SDP, when the camera declares one
             */
            declared_fps?: number | null;
            /**
             * Drift Ppm
             * @description RTP clock rate against the local clock, ppm (>0: the camera's clock runs fast)
             */
            drift_ppm?: number | null;
            error?: components["schemas"]["ProbeFailure"] | null;
            /**
             * Fps
             * @description pictures per second of the camera's own RTP time
             */
            fps?: number | null;
            /**
             * Fps Arrival
             * @description pictures per second as they arrived (local clock)
             */
            fps_arrival?: number | null;
            /**
             * Gop Pictures
             * @description pictures from one keyframe to the next (most common)
             */
            gop_pictures?: number | null;
            /**
             * Gop Seconds
             * @description seconds from one keyframe to the next (mean, RTP time)
             */
            gop_seconds?: number | null;
            /** Height */
            height?: number | null;
            /**
             * Keepalive
             * @description the keepalive method the client settled on
             * @default
             */
            keepalive: string;
            /**
             * Keyframes
             * @default 0
             */
            keyframes: number;
            /**
             * Measured S
             * @description seconds of pictures measured (first to last arrival)
             * @default 0
             */
            measured_s: number;
            /**
             * Ok
             * @description the session played and pictures arrived, without error
             */
            ok: boolean;
            /**
             * Params In Band
             * @description SPS/PPS also arrive inside the stream
             * @default false
             */
            params_in_band: boolean;
            /**
             * Pictures
             * @default 0
             */
            pictures: number;
            /**
             * Public
             * @description methods the camera lists in OPTIONS' Public
             */
            public?: string[];
            /**
             * Quirks
             * @description RtspQuirk names the client met
             */
            quirks?: string[];
            /**
             * Rtp Dropped
             * @description packets of another source or payload type, dropped
             * @default 0
             */
            rtp_dropped: number;
            /**
             * Rtp Lost
             * @description RTP packets missing by sequence number
             * @default 0
             */
            rtp_lost: number;
            /**
             * Rtp Packets
             * @default 0
             */
            rtp_packets: number;
            /**
             * Rtp Reordered
             * @description RTP packets put back in order (UDP)
             * @default 0
             */
            rtp_reordered: number;
            /**
             * Sdp
             * @description the SDP, URLs redacted
             * @default
             */
            sdp: string;
            /**
             * Seconds
             * @description the probe window asked for
             */
            seconds: number;
            /**
             * Server
             * @description the Server header of the camera's answers
             * @default
             */
            server: string;
            /**
             * Started Ms
             * @description wall clock at the start of the probe (ms)
             */
            started_ms: number;
            /**
             * Tls
             * @description the RTSP connection is TLS (rtsps://)
             * @default false
             */
            tls: boolean;
            /** Tracks */
            tracks?: components["schemas"]["Track"][];
            /** @description what the media used: tcp (interleaved on the RTSP connection) or udp (RTP over UDP) */
            transport: components["schemas"]["RtspTransport"];
            /**
             * Url
             * @description the camera's URL, redacted
             */
            url: string;
            /** Width */
            width?: number | null;
        };
        /**
         * ProposedCamera
         * @description One camera found: its proposed row (the camera-file columns) and what it said about itself.
         */
        ProposedCamera: {
            /**
             * Clock Basis
             * @default
             */
            clock_basis: string;
            /**
             * Clock Offset Ms
             * @description Its clock minus ours, when it could be read
             */
            clock_offset_ms?: number | null;
            /**
             * Error
             * @description Why it could not be described (then nothing is proposed)
             * @default
             */
            error: string;
            /**
             * Events
             * @default false
             */
            events: boolean;
            /**
             * Firmware
             * @default
             */
            firmware: string;
            /**
             * Hardware Id
             * @default
             */
            hardware_id: string;
            /**
             * Id
             * @description Proposed camera id (from maker and serial number)
             */
            id: string;
            /**
             * Known As
             * @description Already in the registry (the camera id, when yours to see)
             */
            known_as?: string | null;
            /**
             * Maker
             * @default
             */
            maker: string;
            /**
             * Masks
             * @description It can burn privacy masks in itself (Media2 masks)
             * @default false
             */
            masks: boolean;
            /**
             * Media
             * @description media2 | media: which media service gave the streams
             * @default
             */
            media: string;
            /**
             * Model
             * @default
             */
            model: string;
            /** Name */
            name: string;
            /**
             * Notes
             * @default
             */
            notes: string;
            /** Onvif Url */
            onvif_url: string;
            /**
             * Profile G
             * @description Its recordings can be searched and replayed (Profile G)
             * @default false
             */
            profile_g: boolean;
            /** Rtsp Url */
            rtsp_url: string;
            /**
             * Serial
             * @default
             */
            serial: string;
            /** Services */
            services?: string[];
            /**
             * Snapshot Uri
             * @default
             */
            snapshot_uri: string;
            /** Streams */
            streams?: components["schemas"]["ProposedStream"][];
            /**
             * Sub Rtsp Url
             * @default
             */
            sub_rtsp_url: string;
            /**
             * Username
             * @default
             */
            username: string;
        };
        /** ProposedStream */
        ProposedStream: {
            /** Encoding */
            encoding: string;
            /** Fps */
            fps: number;
            /** Height */
            height: number;
            /** Name */
            name: string;
            /**
             * Uri
             * @description Its RTSP URI, without any login
             */
            uri: string;
            /** Width */
            width: number;
        };
        /**
         * RecorderHealth
         * @description The recorder of this process: is it recording? The control room warns while it is impaired.
         */
        RecorderHealth: {
            /** Node Id */
            node_id: string | null;
            /** @description Why nothing is written (disk full), if so */
            paused: components["schemas"]["GapReason"] | null;
            /**
             * Present
             * @description False where this process records nothing (a cluster's central node)
             */
            present: boolean;
            /**
             * Recording
             * @description Present, every thread running and not paused
             */
            recording: boolean;
            /** Threads */
            threads: components["schemas"]["RecorderThread"][];
        };
        /** RecorderThread */
        RecorderThread: {
            /**
             * Name
             * @description ingest, disk-writer, index-writer or housekeeping
             */
            name: string;
            /**
             * Restarts
             * @description How often the watchdog restarted it since the process started
             */
            restarts: number;
            /** Running */
            running: boolean;
        };
        /** ReleaseIn */
        ReleaseIn: {
            /** Reason */
            reason: string;
        };
        /** RenameIn */
        RenameIn: {
            /** Name */
            name: string;
        };
        /**
         * Role
         * @description Roles of users (permissions per role: ``access/policy.py``).
         * @enum {string}
         */
        Role: "viewer" | "operator" | "supervisor" | "auditor" | "admin" | "planner";
        /** RoleIn */
        RoleIn: {
            role: components["schemas"]["Role"];
        };
        /**
         * RtspTransport
         * @description How a camera's media travels (the registry's ``cameras.transport`` and ``recorder.transport``).
         * @enum {string}
         */
        RtspTransport: "auto" | "tcp" | "udp";
        /** RunIn */
        RunIn: {
            area: components["schemas"]["AreaIn"];
            /**
             * Budgets
             * @description Budget of each year
             */
            budgets: number[];
            /**
             * Models
             * @description Camera model names
             */
            models: string[];
            /**
             * Solver
             * @default
             * @enum {string}
             */
            solver: "" | "greedy" | "local" | "exact";
            /**
             * Weights
             * @description Weights by POI tag, 'junction', 'street'
             */
            weights?: {
                [key: string]: number;
            };
        };
        /** RunOut */
        RunOut: {
            area_kind: components["schemas"]["PlanAreaKind"];
            /** Bbox */
            bbox: number[] | null;
            /**
             * Bound
             * @description Proven upper bound on the best plan's value
             */
            bound: number | null;
            /** Budgets */
            budgets: number[];
            /** Cameras */
            cameras: number;
            /** Created By */
            created_by: string;
            /** Created Ms */
            created_ms: number;
            /** Detail */
            detail: string;
            /** Districts */
            districts: string[];
            /**
             * Done
             * @description Solver steps done (the city planner: tile tasks done in the current phase)
             */
            done: number;
            /**
             * Engine
             * @description Which planner ran it: district (today's solver) or city (tiled)
             */
            engine: string;
            /** Finished Ms */
            finished_ms: number | null;
            /**
             * Gap
             * @description (bound - objective) / bound
             */
            gap: number | null;
            /** Has Plan */
            has_plan: boolean;
            /** Id */
            id: number;
            /** Imported Ms */
            imported_ms: number | null;
            /** Models */
            models: string[];
            /** Objective */
            objective: number | null;
            /**
             * Phase
             * @description The step that runs, as name[:k]: prepare, sweep, kelley, consensus, lagrangian, evaluate, moves, years, done (city planner) or greedy, local, exact with the year (district planner); empty before the first
             */
            phase: string;
            /** Solver */
            solver: string;
            /** Started Ms */
            started_ms: number | null;
            state: components["schemas"]["PlanRunState"];
            /** Stop Requested */
            stop_requested: boolean;
            /**
             * Total
             * @description Solver steps in all (the city planner: tile tasks of the current phase)
             */
            total: number;
            /** Updated Ms */
            updated_ms: number;
            /** Weights */
            weights: {
                [key: string]: number;
            };
        };
        /**
         * SecondFactor
         * @description What the login route asks for after a good password (``{"second_factor": ...}``).
         * @enum {string}
         */
        SecondFactor: "totp" | "enrol";
        /**
         * SecondFactorAsked
         * @description The password was right; the login goes on at /api/auth/login/totp (after /login/enrol for ``enrol``).
         */
        SecondFactorAsked: {
            /** Expires In S */
            expires_in_s: number;
            second_factor: components["schemas"]["SecondFactor"];
            /**
             * Ticket
             * @description Hand back with the code; good for a few minutes, a few tries, once
             */
            ticket: string;
        };
        /** SegmentOut */
        SegmentOut: {
            /** Bytes */
            bytes: number;
            /** Codec */
            codec: string;
            /** End Ms */
            end_ms: number;
            /** Id */
            id: number;
            /**
             * @description live: recorded from the stream; edge: recovered from the camera's card
             * @default live
             */
            source: components["schemas"]["SegmentSource"];
            /** Start Ms */
            start_ms: number;
            /**
             * Status
             * @enum {string}
             */
            status: "writing" | "complete";
        };
        /**
         * SegmentSource
         * @description Where a segment's pictures came from (the ``segments.source`` column, migration 0021).
         * @enum {string}
         */
        SegmentSource: "live" | "edge";
        /** SeriesReport */
        SeriesReport: {
            /**
             * By
             * @enum {string}
             */
            by: "camera" | "site" | "feeder" | "uplink" | "district" | "city";
            /** From Ms */
            from_ms: number;
            /**
             * Period
             * @description Group -> availability over the whole period (the table's number)
             */
            period?: {
                [key: string]: number | null;
            };
            /**
             * Series
             * @description Group -> availability per bucket (null: no camera of the group expected in that bucket)
             */
            series: {
                [key: string]: (number | null)[];
            };
            /** Step Ms */
            step_ms: number;
            /**
             * T Ms
             * @description Start of each bucket
             */
            t_ms: number[];
            /** To Ms */
            to_ms: number;
        };
        /** SiteOut */
        SiteOut: {
            /** District */
            district: string;
            /** Feeder */
            feeder: string;
            /** Id */
            id: string;
            /** Lat */
            lat: number;
            /** Lon */
            lon: number;
            /** Name */
            name: string;
            /** Uplink */
            uplink: string;
        };
        /** SuggestionDecision */
        SuggestionDecision: {
            /** Id */
            id: number;
            /** Incident Id */
            incident_id: number;
            /**
             * Status
             * @enum {string}
             */
            status: "open" | "accepted" | "rejected";
        };
        /** SuggestionOut */
        SuggestionOut: {
            /** Camera Id */
            camera_id: string;
            /** Field */
            field: string;
            /** Id */
            id: number;
            /** Registry Value */
            registry_value: string;
            /**
             * Status
             * @enum {string}
             */
            status: "open" | "accepted" | "rejected";
            /** Suggested Value */
            suggested_value: string;
        };
        /** TamperReferenceOut */
        TamperReferenceOut: {
            /** Camera */
            camera: string;
            /**
             * Requested Ms
             * @description When the re-take was asked for: the camera's next stable pictures (a few samples, tamper.interval_s apart) become its reference
             */
            requested_ms: number;
        };
        /** TextIn */
        TextIn: {
            /**
             * Text
             * @default
             */
            text: string;
        };
        /** Timeline */
        Timeline: {
            /**
             * Events
             * @description The camera's ONVIF events received in the range (at most 5,000)
             */
            events?: components["schemas"]["CameraEventOut"][];
            /** Gaps */
            gaps: components["schemas"]["GapOut"][];
            /** Segments */
            segments: components["schemas"]["SegmentOut"][];
        };
        /** TokenOut */
        TokenOut: {
            /** Created Ms */
            created_ms: number;
            /** Expires Ms */
            expires_ms: number;
            /** Last Seen Ms */
            last_seen_ms: number;
            /** Name */
            name: string;
        };
        /**
         * TopologyOut
         * @description What a camera row may name (sites within the user's districts).
         */
        TopologyOut: {
            /** Districts */
            districts: components["schemas"]["Named"][];
            /** Feeders */
            feeders: components["schemas"]["Named"][];
            /** Sites */
            sites: components["schemas"]["SiteOut"][];
            /** Uplinks */
            uplinks: components["schemas"]["Named"][];
        };
        /** TotpLogin */
        TotpLogin: {
            /**
             * Code
             * @description 6 digits from the app, or a recovery code
             */
            code: string;
            /** Ticket */
            ticket: string;
        };
        /**
         * Track
         * @description One media section of the SDP.
         */
        Track: {
            /** Channels */
            channels?: number | null;
            /** Clock Rate */
            clock_rate?: number | null;
            /**
             * Codec
             * @description encoding name of the rtpmap (H264, H265, MPEG4-GENERIC, PCMA, opus...)
             */
            codec: string;
            /**
             * Fmtp
             * @description format parameters as declared (parameter sets are public stream data)
             * @default
             */
            fmtp: string;
            /**
             * Kind
             * @description m= media type: video, audio, application
             */
            kind: string;
            /** Payload Type */
            payload_type: number;
        };
        /** TransparencyMonth */
        TransparencyMonth: {
            /** Month */
            month: string;
            /** Rows */
            rows: components["schemas"]["TransparencyRow"][];
        };
        /** TransparencyOut */
        TransparencyOut: {
            /** Columns */
            columns: string[];
            /** Months */
            months: components["schemas"]["TransparencyMonth"][];
        };
        /** TransparencyRow */
        TransparencyRow: {
            /** Counts */
            counts: {
                [key: string]: number;
            };
            /** District */
            district: string;
        };
        /** TwoFactorReset */
        TwoFactorReset: {
            /**
             * Reset
             * @description False: the user had no second factor
             */
            reset: boolean;
            /** Username */
            username: string;
        };
        /**
         * UiCalendar
         * @description Calendars dates are shown in, as Intl names them (Bikram Sambat is not in Intl).
         * @enum {string}
         */
        UiCalendar: "gregory" | "persian";
        /**
         * UiDigits
         * @description Digits numbers and dates are written with, as Intl's numbering systems name them.
         * @enum {string}
         */
        UiDigits: "latn" | "arabext" | "deva";
        /**
         * UiLanguage
         * @description Languages of the control room (web/src/locales/<lang>/; docs/design/languages.md).
         * @enum {string}
         */
        UiLanguage: "en" | "fa-AF" | "ps" | "ne";
        /**
         * UiSettingsIn
         * @description The whole setting (null: not chosen, the defaults apply); unknown fields and values are refused (422).
         */
        UiSettingsIn: {
            /** @description gregory or persian (Solar Hijri) */
            calendar?: components["schemas"]["UiCalendar"] | null;
            /** @description latn (0-9), arabext (Persian digits) or deva (Devanagari digits) */
            digits?: components["schemas"]["UiDigits"] | null;
            /** @description en, fa-AF (Dari), ps (Pashto), ne (Nepali) */
            language?: components["schemas"]["UiLanguage"] | null;
        };
        /** UiSettingsOut */
        UiSettingsOut: {
            calendar: components["schemas"]["UiCalendar"] | null;
            /** @description The city's default language (while the user has chosen none) */
            city_language: components["schemas"]["UiLanguage"];
            digits: components["schemas"]["UiDigits"] | null;
            language: components["schemas"]["UiLanguage"] | null;
        };
        /**
         * UnknownOut
         * @description Seconds recorded by a cluster node whose levels could not be had (it did not answer): drawn as no data.
         */
        UnknownOut: {
            /**
             * End S
             * @description UTC seconds, exclusive
             */
            end_s: number;
            /**
             * Node
             * @description The node that recorded them
             */
            node: string;
            /** Reason */
            reason: string;
            /**
             * Start S
             * @description UTC seconds, inclusive
             */
            start_s: number;
        };
        /** UpsIn */
        UpsIn: {
            /** On Battery */
            on_battery: boolean;
            /** Site */
            site: string;
            /**
             * T Ms
             * @description UTC milliseconds since 1970 (before 2200)
             */
            t_ms: number;
        };
        /** UserIn */
        UserIn: {
            /**
             * Districts
             * @description Empty: all districts
             */
            districts?: string[];
            /** Password */
            password: string;
            role: components["schemas"]["Role"];
            /** Username */
            username: string;
        };
        /** UserOut */
        UserOut: {
            /** Created Ms */
            created_ms: number;
            /** Disabled */
            disabled: boolean;
            /**
             * Districts
             * @description The user's districts; empty: all
             */
            districts: string[];
            role: components["schemas"]["Role"];
            /**
             * Sessions
             * @description Browser sessions open now
             */
            sessions: number;
            /**
             * Tokens
             * @description Script tokens valid now
             */
            tokens: number;
            /** Username */
            username: string;
        };
        /** ValidationError */
        ValidationError: {
            /** Context */
            ctx?: Record<string, never>;
            /** Input */
            input?: unknown;
            /** Location */
            loc: (string | number)[];
            /** Message */
            msg: string;
            /** Error Type */
            type: string;
        };
        /**
         * VideoPath
         * @description How a viewer's video reaches the browser (live ``codec`` message, playback ``X-Camgrid-Path``, tile badge).
         * @enum {string}
         */
        VideoPath: "native" | "h264-transcode";
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    list_checkpoints_api_audit_checkpoints_get: {
        parameters: {
            query?: {
                /** @description Keyset cursor: smaller sizes */
                before?: number | null;
                limit?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CheckpointList"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    consistency_api_audit_consistency_get: {
        parameters: {
            query: {
                /** @description The older checkpoint's size */
                from: number;
                /** @description The newer checkpoint's size */
                to: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ConsistencyOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    search_api_audit_entries_get: {
        parameters: {
            query?: {
                action?: string | null;
                /** @description Keyset cursor: entries below */
                before?: number | null;
                camera?: string | null;
                from_ms?: number | null;
                limit?: number;
                to_ms?: number | null;
                who?: string | null;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AuditPage"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    inclusion_api_audit_entries__index__proof_get: {
        parameters: {
            query?: {
                /** @description A signed checkpoint's size */
                size?: number | null;
            };
            header?: never;
            path: {
                index: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["InclusionOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    export_api_audit_export_get: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description entries.jsonl, checkpoints.txt, leaf_hashes.bin, key.pub */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/zip": unknown;
                };
            };
        };
    };
    transparency_api_audit_transparency_get: {
        parameters: {
            query: {
                /** @description The last month, YYYY-MM (UTC) */
                month: string;
                /** @description How many months up to it */
                months?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TransparencyOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    login_api_auth_login_post: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["Login"];
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Me"] | components["schemas"]["SecondFactorAsked"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
            /** @description Too Many Requests */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["LoginThrottled"];
                };
            };
        };
    };
    login_enrol_api_auth_login_enrol_post: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["EnrolTicket"];
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["EnrolmentOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    login_totp_api_auth_login_totp_post: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["TotpLogin"];
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Me"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
            /** @description Too Many Requests */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["LoginThrottled"];
                };
            };
        };
    };
    logout_api_auth_logout_post: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    me_api_auth_me_get: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Me"];
                };
            };
        };
    };
    cameras_api_cameras_get: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CameraColumns"];
                };
            };
        };
    };
    camera_api_cameras__camera_id__get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                camera_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CameraOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    activity_api_cameras__camera_id__activity_get: {
        parameters: {
            query: {
                /** @description UTC milliseconds since 1970 (before 2200) */
                from_ms: number;
                /** @description UTC milliseconds since 1970 (before 2200) */
                to_ms: number;
            };
            header?: never;
            path: {
                camera_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ActivityOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    camera_audio_api_cameras__camera_id__audio_put: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                camera_id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["AudioIn"];
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AudioOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    camera_backfill_api_cameras__camera_id__backfill_get: {
        parameters: {
            query?: {
                limit?: number;
            };
            header?: never;
            path: {
                camera_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["BackfillJobsOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    maintenance_api_cameras__camera_id__maintenance_post: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                camera_id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["MaintenanceIn"];
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["MaintenanceOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    get_mask_api_cameras__camera_id__mask_get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                camera_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["MaskOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    put_mask_api_cameras__camera_id__mask_put: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                camera_id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["MaskIn"];
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["MaskOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    request_removal_api_cameras__camera_id__mask_delete: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                camera_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["MaskOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    approve_removal_api_cameras__camera_id__mask_approve_removal_post: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                camera_id: string;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["ApproveIn"] | null;
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["MaskOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    get_camera_side_api_cameras__camera_id__mask_camera_side_get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                camera_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CameraSideMaskOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    rearm_camera_side_api_cameras__camera_id__mask_camera_side_rearm_post: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                camera_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CameraSideMaskOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    refuse_removal_api_cameras__camera_id__mask_refuse_removal_post: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                camera_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["MaskOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    motion_search_api_cameras__camera_id__motion_search_post: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                camera_id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["MotionSearchIn"];
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["MotionSearchOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    probe_camera_api_cameras__camera_id__probe_post: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                camera_id: string;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["ProbeIn"] | null;
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ProbeResult"];
                };
            };
            /** @description no such camera in your districts */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Conflict */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
            /** @description Too Many Requests */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Service Unavailable */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    snapshot_api_cameras__camera_id__snapshot_mp4_get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                camera_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Fragmented MP4 */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "video/mp4": unknown;
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    retake_reference_api_cameras__camera_id__tamper_reference_post: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                camera_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TamperReferenceOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    timeline_api_cameras__camera_id__timeline_get: {
        parameters: {
            query: {
                /** @description UTC milliseconds since 1970 (before 2200) */
                from_ms: number;
                /** @description UTC milliseconds since 1970 (before 2200) */
                to_ms: number;
            };
            header?: never;
            path: {
                camera_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Timeline"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    discover_cameras_api_cameras_discover_post: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["DiscoverIn"];
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DiscoveryReport"];
                };
            };
            /** @description Conflict */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Unprocessable Entity */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Service Unavailable */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    import_cameras_api_cameras_import_post: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ImportIn"];
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ImportSummary"];
                };
            };
            /** @description Not Found */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
            /** @description Service Unavailable */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    topology_api_cameras_topology_get: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TopologyOut"];
                };
            };
        };
    };
    city_api_city_get: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["City"];
                };
            };
        };
    };
    districts_api_districts_get: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DistrictOut"][];
                };
            };
        };
    };
    feeder_outage_api_evidence_feeder_outage_post: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["FeederOutageIn"];
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Accepted"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    ups_api_evidence_ups_post: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["UpsIn"];
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Accepted"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    list_exports_api_exports_get: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ExportOut"][];
                };
            };
        };
    };
    create_api_exports_post: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ExportIn"];
            };
        };
        responses: {
            /** @description Successful Response */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ExportOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    get_export_api_exports__export_id__get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                export_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ExportOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    approve_api_exports__export_id__approve_post: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                export_id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["Decision"];
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ExportOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    export_file_api_exports__export_id__files__name__get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                export_id: string;
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The file */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": unknown;
                    "text/plain": unknown;
                    "video/mp4": unknown;
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    export_package_api_exports__export_id__package_get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                export_id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The export as one zip: clip, page, signed manifest */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/zip": unknown;
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    refuse_api_exports__export_id__refuse_post: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                export_id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["Decision"];
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ExportOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    coverage_api_exports_coverage_get: {
        parameters: {
            query: {
                camera: string;
                /** @description UTC milliseconds since 1970 (before 2200) */
                from_ms?: number;
                /** @description UTC milliseconds since 1970 (before 2200) */
                to_ms?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CoverageOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    list_holds_api_holds_get: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HoldOut"][];
                };
            };
        };
    };
    create_api_holds_post: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["HoldIn"];
            };
        };
        responses: {
            /** @description Successful Response */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HoldOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    release_api_holds__hold_id__release_post: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                hold_id: number;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ReleaseIn"];
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HoldOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    incidents_api_incidents_get: {
        parameters: {
            query?: {
                limit?: number;
                /** @description 1: only incidents not resolved yet */
                open?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["IncidentView"][];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    incident_api_incidents__incident_id__get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                incident_id: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["IncidentView"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    acknowledge_api_incidents__incident_id__ack_post: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                incident_id: number;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["TextIn"];
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["IncidentView"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    comment_api_incidents__incident_id__comment_post: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                incident_id: number;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["TextIn"];
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["IncidentView"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    incident_still_api_incidents__incident_id__stills__which__get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                incident_id: number;
                /** @description before: the camera's reference; after: the tampered picture */
                which: "before" | "after";
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A JPEG still */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "image/jpeg": unknown;
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    list_layouts_api_layouts_get: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["LayoutOut"][];
                };
            };
        };
    };
    create_api_layouts_post: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["LayoutIn"];
            };
        };
        responses: {
            /** @description Successful Response */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["LayoutOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    replace_api_layouts__layout_id__put: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                layout_id: number;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["LayoutIn"];
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["LayoutOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    delete_api_layouts__layout_id__delete: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                layout_id: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    rename_api_layouts__layout_id__rename_post: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                layout_id: number;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["RenameIn"];
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["LayoutOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    transcodes_api_live_transcodes_get: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["LiveTranscodes"];
                };
            };
        };
    };
    base_map_api_map_base_get: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["FeatureCollection"];
                };
            };
        };
    };
    get_settings_api_me_settings_get: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["UiSettingsOut"];
                };
            };
        };
    };
    put_settings_api_me_settings_put: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["UiSettingsIn"];
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["UiSettingsOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    compare_api_planner_compare_get: {
        parameters: {
            query: {
                a: number;
                b: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CompareOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    list_runs_api_planner_runs_get: {
        parameters: {
            query?: {
                limit?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RunOut"][];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    start_run_api_planner_runs_post: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["RunIn"];
            };
        };
        responses: {
            /** @description Successful Response */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RunOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    get_run_api_planner_runs__run_id__get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                run_id: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RunOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    import_run_api_planner_runs__run_id__import_post: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                run_id: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ImportOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    run_plan_api_planner_runs__run_id__plan_get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                run_id: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["FeatureCollection"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    stop_run_api_planner_runs__run_id__stop_post: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                run_id: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RunOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    planner_setup_api_planner_setup_get: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PlannerSetup"];
                };
            };
        };
    };
    list_plans_api_plans_get: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PlanInfo"][];
                };
            };
        };
    };
    get_plan_api_plans__name__get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["FeatureCollection"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    recorder_health_api_recorder_get: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RecorderHealth"];
                };
            };
        };
    };
    availability_api_reports_availability_get: {
        parameters: {
            query: {
                by?: "camera" | "site" | "feeder" | "uplink" | "district" | "city";
                /** @description 1: add lost coverage (planner visibility; slow the first time) */
                coverage?: number;
                /** @description UTC milliseconds since 1970 (before 2200) */
                from_ms: number;
                /** @description UTC milliseconds since 1970 (before 2200) */
                to_ms: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AvailabilityReport"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    availability_series_api_reports_availability_series_get: {
        parameters: {
            query: {
                by?: "camera" | "site" | "feeder" | "uplink" | "district" | "city";
                /** @description UTC milliseconds since 1970 (before 2200) */
                from_ms: number;
                /** @description Bucket length (at most 500 buckets) */
                step_ms?: number;
                /** @description UTC milliseconds since 1970 (before 2200) */
                to_ms: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SeriesReport"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    availability_csv_api_reports_availability_csv_get: {
        parameters: {
            query: {
                by?: "camera" | "site" | "feeder" | "uplink" | "district" | "city";
                /** @description UTC milliseconds since 1970 (before 2200) */
                from_ms: number;
                /** @description UTC milliseconds since 1970 (before 2200) */
                to_ms: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The availability table as CSV (camera-hours) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/csv": unknown;
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    live_coverage_api_reports_live_coverage_get: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["LiveCoverage"];
                };
            };
        };
    };
    power_cuts_api_reports_power_cuts_get: {
        parameters: {
            query: {
                /** @description UTC milliseconds since 1970 (before 2200) */
                from_ms: number;
                /** @description UTC milliseconds since 1970 (before 2200) */
                to_ms: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PowerCutReport"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    segment_media_api_segments__segment_id__media_get: {
        parameters: {
            query?: {
                /** @description h264: an H.265 segment transcoded to H.264 for a browser that cannot decode H.265 */
                codec?: "h264" | null;
            };
            header?: never;
            path: {
                segment_id: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Fragmented MP4 */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "video/mp4": unknown;
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    decide_api_suggestions__suggestion_id__post: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                suggestion_id: number;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["DecisionIn"];
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SuggestionDecision"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    list_users_api_users_get: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["UserOut"][];
                };
            };
        };
    };
    create_api_users_post: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["UserIn"];
            };
        };
        responses: {
            /** @description Successful Response */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["UserOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    delete_api_users__username__delete: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                username: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Ended"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    reset_two_factor_api_users__username__2fa_reset_post: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                username: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TwoFactorReset"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    disable_api_users__username__disable_post: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                username: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["UserOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    set_districts_api_users__username__districts_put: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                username: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["DistrictsIn"];
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["UserOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    enable_api_users__username__enable_post: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                username: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["UserOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    reset_password_api_users__username__password_post: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                username: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["PasswordIn"];
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["UserOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    revoke_api_users__username__revoke_post: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                username: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Ended"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    set_role_api_users__username__role_put: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                username: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["RoleIn"];
            };
        };
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["UserOut"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    tokens_api_users__username__tokens_get: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                username: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TokenOut"][];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
    revoke_tokens_api_users__username__tokens_delete: {
        parameters: {
            query?: {
                /** @description Only the tokens of this name */
                name?: string | null;
            };
            header?: never;
            path: {
                username: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Successful Response */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Ended"];
                };
            };
            /** @description Validation Error */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HTTPValidationError"];
                };
            };
        };
    };
}
