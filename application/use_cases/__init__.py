"""Use cases: one class per command, each with one `async __call__(cmd) -> result`."""

from application.use_cases.add_images_to_study import AddImagesToStudyUseCase
from application.use_cases.authenticate import AuthenticateUseCase
from application.use_cases.change_password import ChangePasswordUseCase
from application.use_cases.check_readiness import CheckReadinessUseCase
from application.use_cases.create_study import CreateStudyUseCase
from application.use_cases.delete_prediction import DeletePredictionUseCase
from application.use_cases.delete_study import DeleteStudyUseCase
from application.use_cases.describe_model import DescribeModelUseCase
from application.use_cases.export_predictions import ExportPredictionsUseCase
from application.use_cases.get_lesion_overlay import GetLesionOverlayUseCase
from application.use_cases.get_performance import GetPerformanceUseCase
from application.use_cases.get_prediction import GetPredictionUseCase
from application.use_cases.get_prediction_dicom import GetPredictionDicomUseCase
from application.use_cases.get_prediction_image import GetPredictionImageUseCase
from application.use_cases.get_statistics import GetStatisticsUseCase
from application.use_cases.get_study import GetStudyUseCase
from application.use_cases.import_study_from_pacs import ImportStudyFromPacsUseCase
from application.use_cases.infer_tensors import InferTensorsUseCase
from application.use_cases.list_audit_log import ListAuditLogUseCase
from application.use_cases.list_predictions import ListPredictionsUseCase
from application.use_cases.list_studies import ListStudiesUseCase
from application.use_cases.list_users import ListUsersUseCase
from application.use_cases.logout import LogoutUseCase
from application.use_cases.place_study_image import PlaceStudyImageUseCase
from application.use_cases.predict import PredictUseCase
from application.use_cases.predict_and_store import PredictAndStoreUseCase
from application.use_cases.receive_pacs_images import ReceivePacsImagesUseCase
from application.use_cases.record_outcome import RecordOutcomeUseCase
from application.use_cases.register_user import RegisterUserUseCase, load_common_passwords
from application.use_cases.resolve_current_user import ResolveCurrentUserUseCase
from application.use_cases.review_prediction import ReviewPredictionUseCase
from application.use_cases.search_pacs import SearchPacsUseCase
from application.use_cases.send_results_to_pacs import SendResultsToPacsUseCase
from application.use_cases.study_report import GetStudyReportUseCase
from application.use_cases.sweep_images import SweepImagesUseCase
from application.use_cases.update_study import UpdateStudyUseCase
from application.use_cases.update_user import UpdateUserUseCase
from application.use_cases.withdraw_outcome import WithdrawOutcomeUseCase

__all__ = [
    "AddImagesToStudyUseCase",
    "AuthenticateUseCase",
    "ChangePasswordUseCase",
    "CheckReadinessUseCase",
    "CreateStudyUseCase",
    "DeletePredictionUseCase",
    "DeleteStudyUseCase",
    "DescribeModelUseCase",
    "ExportPredictionsUseCase",
    "GetLesionOverlayUseCase",
    "GetPerformanceUseCase",
    "GetPredictionDicomUseCase",
    "GetPredictionImageUseCase",
    "GetPredictionUseCase",
    "GetStatisticsUseCase",
    "GetStudyReportUseCase",
    "GetStudyUseCase",
    "ImportStudyFromPacsUseCase",
    "InferTensorsUseCase",
    "ListAuditLogUseCase",
    "ListPredictionsUseCase",
    "ListStudiesUseCase",
    "ListUsersUseCase",
    "LogoutUseCase",
    "PlaceStudyImageUseCase",
    "PredictAndStoreUseCase",
    "PredictUseCase",
    "ReceivePacsImagesUseCase",
    "RecordOutcomeUseCase",
    "RegisterUserUseCase",
    "ResolveCurrentUserUseCase",
    "ReviewPredictionUseCase",
    "SearchPacsUseCase",
    "SendResultsToPacsUseCase",
    "SweepImagesUseCase",
    "UpdateStudyUseCase",
    "UpdateUserUseCase",
    "WithdrawOutcomeUseCase",
    "load_common_passwords",
]
