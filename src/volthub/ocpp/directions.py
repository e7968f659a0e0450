"""Which side initiates each OCPP action, per version, as the specifications state it."""

from __future__ import annotations

# Sources, all under /work/shared/specs/ocpp/ unless noted:
# - 1.6: ocpp-1.6_edition_2.txt §4 "Operations Initiated by Charge Point" and §5 "Operations
#   Initiated by Central System"; ocpp-1.6-security-whitepaper-edition-2.txt §5 "Messages", whose
#   sections say "sent by the Charge Point to the Central System" or "Used by / sent by the
#   Central System".
# - 2.0.1: the direction of a message is stated in Part 2 ("Messages", "This contains the field
#   definition of the ...Request PDU sent by ..."), which is not in the shared specs. Where
#   OCPP-2.0.1_part6_test_cases.txt shows the message in the "Charging Station" column of a test
#   scenario, that test case is cited; otherwise the use case of OCPP-2.0.1_part0_introduction.txt
#   §3.3 that defines the message.
# - 2.1: "an extension of OCPP 2.0.1" whose 2.0.1 application logic keeps working
#   (OCPP-2.1_edition1_part0_introduction.txt §1.1), so every 2.0.1 message keeps its side; new
#   messages are cited by their use case in 2.1 Part 0 §3.3, NotifyPeriodicEventStream by
#   OCPP-2.1_edition1_part4_ocpp-j-specification.txt §4.2.4. The 2.1 Part 2 message chapters are
#   not in the shared specs either.
# DataTransfer goes both ways in every version (1.6 §4.3 and §5.6; 2.x P01 and P02).

BOTH_WAYS = frozenset({"DataTransfer"})

STATION_INITIATED_16: frozenset[str] = frozenset({
    # OCPP 1.6 §4.1-§4.10
    "Authorize",
    "BootNotification",
    "DataTransfer",
    "DiagnosticsStatusNotification",
    "FirmwareStatusNotification",
    "Heartbeat",
    "MeterValues",
    "StartTransaction",
    "StatusNotification",
    "StopTransaction",
    # security whitepaper edition 2: §5.13, §5.15, §5.17, §5.19
    "LogStatusNotification",
    "SecurityEventNotification",
    "SignCertificate",
    "SignedFirmwareStatusNotification",
})

CSMS_INITIATED_16: frozenset[str] = frozenset({
    # OCPP 1.6 §5.1-§5.19
    "CancelReservation",
    "ChangeAvailability",
    "ChangeConfiguration",
    "ClearCache",
    "ClearChargingProfile",
    "DataTransfer",
    "GetCompositeSchedule",
    "GetConfiguration",
    "GetDiagnostics",
    "GetLocalListVersion",
    "RemoteStartTransaction",
    "RemoteStopTransaction",
    "ReserveNow",
    "Reset",
    "SendLocalList",
    "SetChargingProfile",
    "TriggerMessage",
    "UnlockConnector",
    "UpdateFirmware",
    # security whitepaper edition 2: §5.1, §5.3, §5.5, §5.7, §5.9, §5.11, §5.21
    "CertificateSigned",
    "DeleteCertificate",
    "ExtendedTriggerMessage",
    "GetInstalledCertificateIds",
    "GetLog",
    "InstallCertificate",
    "SignedUpdateFirmware",
})

STATION_INITIATED_201: frozenset[str] = frozenset({
    "Authorize",  # C01; Part 6 TC_C_09_CS
    "BootNotification",  # B01; TC_A_04_CS
    "ClearedChargingLimit",  # K13 Reset / release external charging limit
    "DataTransfer",  # P02 Data Transfer to the CSMS; TC_P_02_CSMS
    "FirmwareStatusNotification",  # L01/L02; TC_L_01_CS
    "Get15118EVCertificate",  # M01 Certificate Installation EV, M02 Certificate Update EV
    "GetCertificateStatus",  # M06 Get Charging Station Certificate status (OCSP)
    "Heartbeat",  # G02; TC_F_20_CS
    "LogStatusNotification",  # N01; TC_N_25_CS
    "MeterValues",  # J01; TC_F_11_CS
    "NotifyChargingLimit",  # K11/K12 Set / Update External Charging Limit
    "NotifyCustomerInformation",  # N09; TC_N_27_CS
    "NotifyDisplayMessages",  # O03/O04 Get (All / Specific) DisplayMessages
    "NotifyEVChargingNeeds",  # K15; Part 6 reusable state RenegotiateChargingLimits
    "NotifyEVChargingSchedule",  # K15/K17; same reusable state
    "NotifyEvent",  # G05, N07; TC_B_20_CSMS
    "NotifyMonitoringReport",  # N02 Get Monitoring report
    "NotifyReport",  # B07/B08; TC_B_08_CS
    "PublishFirmwareStatusNotification",  # L03 Publish Firmware file on Local Controller
    "ReportChargingProfiles",  # K09 Get Charging Profiles
    "ReservationStatusUpdate",  # H04 Reservation Ended, not used
    "SecurityEventNotification",  # A04; TC_A_05_CS
    "SignCertificate",  # A02/A03; TC_A_14_CS
    "StatusNotification",  # G01; TC_B_20_CSMS
    "TransactionEvent",  # E01-E15; TC_B_22_CS
})

CSMS_INITIATED_201: frozenset[str] = frozenset({
    # Each is sent by the OCTT/CSMS column of Part 6, or named by its use case in Part 0 §3.3
    # as an operation of the CSMS on the Charging Station.
    "CancelReservation",  # H02
    "CertificateSigned",  # A02/A03; TC_A_14_CS
    "ChangeAvailability",  # G03/G04; TC_G_04_CS
    "ClearCache",  # C11; TC_C_37_CS
    "ClearChargingProfile",  # K10
    "ClearDisplayMessage",  # O05
    "ClearVariableMonitoring",  # N06
    "CostUpdated",  # I02 Show EV Driver running total cost during charging
    "CustomerInformation",  # N09/N10; TC_N_27_CS
    "DataTransfer",  # P01 Data Transfer to the Charging Station; TC_P_01_CS
    "DeleteCertificate",  # M04; TC_M_20_CS
    "GetBaseReport",  # B07; TC_B_02_CS
    "GetChargingProfiles",  # K09
    "GetCompositeSchedule",  # K08
    "GetDisplayMessages",  # O03/O04
    "GetInstalledCertificateIds",  # M03; TC_B_47_CS
    "GetLocalListVersion",  # D02
    "GetLog",  # N01; TC_N_25_CS
    "GetMonitoringReport",  # N02
    "GetReport",  # B08
    "GetTransactionStatus",  # E14; TC_E_28_CS
    "GetVariables",  # B06; TC_A_19_CS
    "InstallCertificate",  # M05; TC_M_07_CS
    "PublishFirmware",  # L03
    "RequestStartTransaction",  # F01/F02; TC_E_13_CS
    "RequestStopTransaction",  # F03; TC_E_35_CS
    "ReserveNow",  # H01; Part 6 reusable state Reserved
    "Reset",  # B11/B12; TC_B_20_CS
    "SendLocalList",  # D01; reusable state IdTokenLocalAuthList
    "SetChargingProfile",  # K01; reusable state SetChargingProfile
    "SetDisplayMessage",  # O01/O02
    "SetMonitoringBase",  # N03
    "SetMonitoringLevel",  # N05
    "SetNetworkProfile",  # B09; TC_A_19_CS
    "SetVariableMonitoring",  # N04
    "SetVariables",  # B05; TC_A_09_CS
    "TriggerMessage",  # F06; TC_A_14_CS
    "UnlockConnector",  # F05; TC_F_05_CS
    "UnpublishFirmware",  # L04
    "UpdateFirmware",  # L01/L02; TC_L_01_CS
})

STATION_INITIATED_21: frozenset[str] = STATION_INITIATED_201 | frozenset({
    "BatterySwap",  # S01-S03 Battery Swapping (Part 0 §3.2: block S "adds the BatterySwap message")
    "ClosePeriodicEventStream",  # N13 Close Periodic Event Streams
    "GetCertificateChainStatus",  # M06 Get Charging Station Certificate status (2.1: a chain)
    "NotifyDERAlarm",  # R05 Charging station reporting a DER event
    "NotifyDERStartStop",  # R05
    "NotifyPeriodicEventStream",  # N15; a SEND (Part 4 §4.1.3 Table 3, §4.2.4 example)
    "NotifyPriorityCharging",  # K22 Requesting priority charging locally
    "NotifySettlement",  # C21/C22 Settlement at end of transaction (payment terminal)
    "OpenPeriodicEventStream",  # N11 Set Frequent Periodic Variable Monitoring, N15
    "PullDynamicScheduleUpdate",  # K28 Dynamic charging profiles
    "ReportDERControl",  # R04 Configure DER control settings (report of GetDERControl)
    "VatNumberValidation",  # C24 Ad hoc payment via stand-alone payment terminal
})

CSMS_INITIATED_21: frozenset[str] = CSMS_INITIATED_201 | frozenset({
    "AdjustPeriodicEventStream",  # N14 Adjust Periodic Event Streams
    "AFRRSignal",  # Q07 Central V2X control for frequency support
    "ChangeTransactionTariff",  # I11 Local Cost Calculation - Change transaction tariff
    "ClearDERControl",  # R04
    "ClearTariffs",  # I10 Local Cost Calculation - Clear Tariffs
    "GetDERControl",  # R04
    "GetPeriodicEventStream",  # N12 Get Periodic Event Streams
    "GetTariffs",  # I09 Local Cost Calculation - Get Tariffs
    "NotifyAllowedEnergyTransfer",  # Q01 V2X Authorization
    "NotifyWebPaymentStarted",  # C25 Ad hoc payment via static or dynamic QR code
    "RequestBatterySwap",  # S02 Battery swap remote start
    "SetDefaultTariff",  # I07 Local Cost Calculation - Set Default Tariff
    "SetDERControl",  # R04
    "UpdateDynamicSchedule",  # K28 Dynamic charging profiles
    "UsePriorityCharging",  # K21 Requesting priority charging remotely
})

# 2.1 Part 4 §4.2.4: messages sent as SEND (type 6); their schema has no "Request" suffix.
SEND_MESSAGES_21: frozenset[str] = frozenset({"NotifyPeriodicEventStream"})

STATION_INITIATED: dict[str, frozenset[str]] = {
    "1.6": STATION_INITIATED_16,
    "2.0.1": STATION_INITIATED_201,
    "2.1": STATION_INITIATED_21,
}
CSMS_INITIATED: dict[str, frozenset[str]] = {
    "1.6": CSMS_INITIATED_16,
    "2.0.1": CSMS_INITIATED_201,
    "2.1": CSMS_INITIATED_21,
}
