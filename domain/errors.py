"""Domain errors: the only way the core reports failure; each entrypoint maps them once.

Every error carries a stable machine `code` (an ErrorCode) and the `params` that code's
sentence needs; `message` is the core's own English wording, for logs and API details.
Entrypoints never match message text: the HTTP API sends the code, the web UI words the code
in the reader's language, the CLI turns the error's kind into an exit status.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import ClassVar

# A parameter of an error's sentence: a name, a count, a size, or a list of names.
Param = str | int | float | tuple[str, ...]


class ErrorCode(StrEnum):
    """Every code the core reports. The first group are kinds (one per error class, the
    code of an error that says nothing more specific); the others refine a kind."""

    # kinds
    BAD_REQUEST = "bad_request"
    INVALID_INPUT = "invalid_input"
    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"
    CONFLICT = "conflict"
    INVALID_CREDENTIALS = "invalid_credentials"
    NOT_AUTHENTICATED = "not_authenticated"
    TOO_MANY_ATTEMPTS = "too_many_attempts"
    INVALID_IMAGE = "invalid_image"
    UNSUPPORTED_IMAGE_FORMAT = "unsupported_image_format"
    IMAGE_TOO_LARGE = "image_too_large"
    MODEL_UNAVAILABLE = "model_unavailable"
    DATABASE_UNAVAILABLE = "database_unavailable"
    PACS_UNAVAILABLE = "pacs_unavailable"
    # invalid input
    EMAIL_INVALID = "email_invalid"
    PASSWORD_TOO_SHORT = "password_too_short"  # noqa: S105 (a code, not a secret); count
    PASSWORD_TOO_LONG = "password_too_long"  # noqa: S105 (a code, not a secret); count
    PASSWORD_TOO_COMMON = "password_too_common"  # noqa: S105
    PASSWORD_IS_EMAIL = "password_is_email"  # noqa: S105
    PASSWORD_TOO_WEAK = "password_too_weak"  # noqa: S105
    PASSWORD_CURRENT_WRONG = "password_current_wrong"  # noqa: S105
    PASSWORDS_DIFFER = "passwords_differ"
    NAME_TOO_LONG = "name_too_long"  # count
    NOTE_TOO_LONG = "note_too_long"  # count
    SEARCH_TOO_LONG = "search_too_long"  # count
    HISTOLOGY_TOO_LONG = "histology_too_long"  # count
    OUTCOME_DATE_IN_FUTURE = "outcome_date_in_future"
    DATE_INVALID = "date_invalid"  # field
    DATE_RANGE_REVERSED = "date_range_reversed"
    PAGE_INVALID = "page_invalid"  # max_limit
    OPACITY_INVALID = "opacity_invalid"
    NO_IMAGE = "no_image"
    ONE_IMAGE_EXPECTED = "one_image_expected"
    TOO_MANY_IMAGES = "too_many_images"  # count
    NOTHING_TO_CHANGE = "nothing_to_change"
    TEXT_INVALID_CHARACTERS = "text_invalid_characters"  # field
    PATIENT_REF_INVALID = "patient_ref_invalid"  # count
    ACCESSION_INVALID = "accession_invalid"  # count
    STUDY_UID_INVALID = "study_uid_invalid"
    LATERALITY_INVALID = "laterality_invalid"
    VIEW_INVALID = "view_invalid"  # formats
    CLOCK_POSITION_INVALID = "clock_position_invalid"
    DISTANCE_INVALID = "distance_invalid"  # count
    LESION_NUMBER_INVALID = "lesion_number_invalid"  # count
    POSITIONS_MISMATCH = "positions_mismatch"  # count
    # not found
    PREDICTION_NOT_FOUND = "prediction_not_found"
    USER_NOT_FOUND = "user_not_found"
    HEATMAP_NOT_STORED = "heatmap_not_stored"
    LESION_NOT_FOUND = "lesion_not_found"
    STORED_IMAGE_MISSING = "stored_image_missing"
    STUDY_NOT_FOUND = "study_not_found"
    DICOM_NOT_STORED = "dicom_not_stored"  # the analysis was not made from a DICOM file
    # forbidden
    ADMIN_ONLY = "admin_only"
    REGISTRATION_CLOSED = "registration_closed"
    # conflict
    EMAIL_TAKEN = "email_taken"
    LAST_ADMIN = "last_admin"
    STUDY_UID_TAKEN = "study_uid_taken"
    # not authenticated
    SESSION_ENDED = "session_ended"
    # image refusals (filename: the upload's name, "" when it has none)
    IMAGE_EMPTY = "image_empty"  # filename
    IMAGE_FORMAT_NOT_ACCEPTED = "image_format_not_accepted"  # filename, formats
    IMAGE_TOO_MANY_BYTES = "image_too_many_bytes"  # filename, size_mb, limit_mb
    IMAGE_TOO_MANY_PIXELS = "image_too_many_pixels"  # filename, width, height, limit
    IMAGE_BOMB = "image_bomb"  # filename
    IMAGE_CORRUPT = "image_corrupt"  # filename, reason
    IMAGE_NO_PIXELS = "image_no_pixels"  # filename
    IMAGE_SINGLE_FRAME = "image_single_frame"  # filename, frame: a frame past 0 of a still image
    STORED_IMAGE_CORRUPT = "stored_image_corrupt"  # reason
    DICOM_CORRUPT = "dicom_corrupt"  # filename, reason
    DICOM_NO_PIXEL_DATA = "dicom_no_pixel_data"  # filename
    DICOM_SYNTAX_UNSUPPORTED = "dicom_syntax_unsupported"  # filename, syntax
    DICOM_PHOTOMETRIC_UNSUPPORTED = "dicom_photometric_unsupported"  # filename, photometric
    DICOM_TOO_MANY_FRAMES = "dicom_too_many_frames"  # filename, count, limit
    DICOM_FRAME_MISSING = "dicom_frame_missing"  # filename, frame, count
    # image refusals of a study upload (filename)
    IMAGE_NEEDS_STUDY = "image_needs_study"  # filename: not DICOM, and no study was named
    IMAGE_NO_PATIENT_ID = "image_no_patient_id"  # filename: a DICOM without PatientID
    IMAGE_OTHER_STUDY = "image_other_study"  # filename: DICOM of another patient or study
    IMAGE_SIDE_MISMATCH = "image_side_mismatch"  # filename: given side differs from the tags
    # model
    MODEL_MISSING = "model_missing"  # path
    # PACS (DICOM networking and DICOMweb)
    PACS_QUERY_EMPTY = "pacs_query_empty"  # invalid input: neither patient nor accession
    PACS_STUDY_NOT_FOUND = "pacs_study_not_found"  # not found
    PACS_NO_IMAGES = "pacs_no_images"  # invalid input: skipped (the objects left out)
    PACS_RETRIEVE_PARTIAL = "pacs_retrieve_partial"  # pacs unavailable: missing, count
    PACS_STORE_REFUSED = "pacs_store_refused"  # pacs unavailable: count
    STUDY_NOT_FROM_PACS = "study_not_from_pacs"  # conflict
    # the inference protocol (/v2): said to integrators, never shown in the UI
    MODEL_NOT_FOUND = "model_not_found"  # name, version
    INFER_REQUEST_INVALID = "infer_request_invalid"  # reason
    TENSOR_INPUT_EXPECTED = "tensor_input_expected"  # name
    TENSOR_OUTPUT_UNKNOWN = "tensor_output_unknown"  # name, outputs
    TENSOR_DATATYPE_INVALID = "tensor_datatype_invalid"  # name, datatype, expected
    TENSOR_SHAPE_INVALID = "tensor_shape_invalid"  # name, shape, expected
    TENSOR_SIZE_INVALID = "tensor_size_invalid"  # name, size, expected


class DomainError(Exception):
    """Base class for every failure the core reports."""

    kind: ClassVar[ErrorCode] = ErrorCode.BAD_REQUEST

    def __init__(self, message: str, code: ErrorCode | None = None, **params: Param) -> None:
        super().__init__(message)
        self.message = message
        self.code: ErrorCode = code or self.kind
        self.params: Mapping[str, Param] = params


class InvalidInput(DomainError):
    """A command carried a value the rules refuse (bad email, weak password, bad page size)."""

    kind = ErrorCode.INVALID_INPUT


class NotFound(DomainError):
    """The record does not exist, or the caller may not know that it does."""

    kind = ErrorCode.NOT_FOUND


class Forbidden(DomainError):
    """The caller is known but not allowed to do this."""

    kind = ErrorCode.FORBIDDEN


class Conflict(DomainError):
    """The change clashes with existing state (e.g. an email already registered)."""

    kind = ErrorCode.CONFLICT


class InvalidCredentials(DomainError):
    """Wrong email or password; deliberately does not say which."""

    kind = ErrorCode.INVALID_CREDENTIALS


class NotAuthenticated(DomainError):
    """The token is missing, malformed, expired, revoked or belongs to an inactive account."""

    kind = ErrorCode.NOT_AUTHENTICATED


class TooManyAttempts(DomainError):
    """Too many failed sign-ins; retry after the given number of seconds."""

    kind = ErrorCode.TOO_MANY_ATTEMPTS

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, seconds=retry_after)
        self.retry_after = retry_after


class InvalidImage(DomainError):
    """The upload is not a decodable image within the accepted formats and limits."""

    kind = ErrorCode.INVALID_IMAGE


class UnsupportedImageFormat(InvalidImage):
    """The bytes are not one of the accepted image formats (checked by magic bytes)."""

    kind = ErrorCode.UNSUPPORTED_IMAGE_FORMAT


class ImageTooLarge(InvalidImage):
    """The upload exceeds the byte or pixel limits."""

    kind = ErrorCode.IMAGE_TOO_LARGE


class ModelUnavailable(DomainError):
    """The classifier could not be loaded or run."""

    kind = ErrorCode.MODEL_UNAVAILABLE


class DatabaseUnavailable(DomainError):
    """The database cannot be reached or dropped the connection; retrying later may succeed."""

    kind = ErrorCode.DATABASE_UNAVAILABLE


class PacsUnavailable(DomainError):
    """The PACS cannot be reached, refused what was sent, or delivered a study only in part
    (after retrying); retrying later may succeed."""

    kind = ErrorCode.PACS_UNAVAILABLE
