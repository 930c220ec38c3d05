//! MFRC522 register addresses, commands and bit fields (NXP MFRC522 datasheet rev. 3.9, §9).

/// Registers the driver and the simulator use (datasheet Table 20).
#[allow(missing_docs)] // the names are the datasheet's
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Register {
    Command = 0x01,
    ComIEn = 0x02,
    DivIEn = 0x03,
    ComIrq = 0x04,
    DivIrq = 0x05,
    Error = 0x06,
    Status1 = 0x07,
    Status2 = 0x08,
    FifoData = 0x09,
    FifoLevel = 0x0A,
    WaterLevel = 0x0B,
    Control = 0x0C,
    BitFraming = 0x0D,
    Coll = 0x0E,
    Mode = 0x11,
    TxMode = 0x12,
    RxMode = 0x13,
    TxControl = 0x14,
    TxAsk = 0x15,
    TxSel = 0x16,
    RxSel = 0x17,
    RxThreshold = 0x18,
    Demod = 0x19,
    CrcResultH = 0x21,
    CrcResultL = 0x22,
    ModWidth = 0x24,
    RfCfg = 0x26,
    GsN = 0x27,
    CwGsP = 0x28,
    ModGsP = 0x29,
    TMode = 0x2A,
    TPrescaler = 0x2B,
    TReloadH = 0x2C,
    TReloadL = 0x2D,
    Version = 0x37,
}

impl Register {
    /// First SPI byte to write this register: address in bits 6..1, bit 7 (read) clear
    /// (datasheet §8.1.2.3).
    pub const fn write_address(self) -> u8 {
        (self as u8) << 1
    }

    /// First SPI byte to read this register: address in bits 6..1, bit 7 set.
    pub const fn read_address(self) -> u8 {
        0x80 | ((self as u8) << 1)
    }
}

/// CommandReg command codes (datasheet Table 149).
#[allow(missing_docs)] // the datasheet's names
pub mod command {
    pub const IDLE: u8 = 0x00;
    pub const CALC_CRC: u8 = 0x03;
    pub const TRANSCEIVE: u8 = 0x0C;
    pub const SOFT_RESET: u8 = 0x0F;
}

/// Bit fields.
#[allow(missing_docs)] // the datasheet's names
pub mod bits {
    /// CommandReg: the analog part is powered down (also set while a soft reset runs).
    pub const POWER_DOWN: u8 = 1 << 4;
    /// ComIrqReg: Set1 (1 sets, 0 clears the bits marked in the written value).
    pub const SET1: u8 = 1 << 7;
    pub const TX_IRQ: u8 = 1 << 6;
    pub const RX_IRQ: u8 = 1 << 5;
    pub const IDLE_IRQ: u8 = 1 << 4;
    pub const ERR_IRQ: u8 = 1 << 1;
    pub const TIMER_IRQ: u8 = 1 << 0;
    /// ErrorReg bits.
    pub const BUFFER_OVFL: u8 = 1 << 4;
    pub const COLL_ERR: u8 = 1 << 3;
    pub const CRC_ERR: u8 = 1 << 2;
    pub const PARITY_ERR: u8 = 1 << 1;
    pub const PROTOCOL_ERR: u8 = 1 << 0;
    /// FIFOLevelReg: flush the FIFO.
    pub const FLUSH_BUFFER: u8 = 1 << 7;
    /// BitFramingReg: start transmission (with Transceive).
    pub const START_SEND: u8 = 1 << 7;
    /// TxControlReg: drive both antenna pins TX1 and TX2.
    pub const TX1_TX2_RF_EN: u8 = 0b11;
    /// TModeReg: timer starts automatically at the end of a transmission.
    pub const T_AUTO: u8 = 1 << 7;
    /// ControlReg: start the timer now.
    pub const T_START_NOW: u8 = 1 << 6;
    /// ControlReg: number of valid bits in the last received byte.
    pub const RX_LAST_BITS: u8 = 0b111;
}

/// Register values written by [`init`](super::Mfrc522::init).
#[allow(missing_docs)] // the datasheet's names
pub mod init_values {
    /// TAuto, prescaler high nibble 0xD: with TPrescaler 0x3E the timer ticks at
    /// 13.56 MHz / (2·0xD3E + 1) ≈ 2 kHz.
    pub const T_MODE: u8 = 0x8D;
    pub const T_PRESCALER: u8 = 0x3E;
    /// 30 ticks ≈ 15 ms: the longest a poll waits for a card that is not there.
    pub const T_RELOAD: u16 = 30;
    /// Force 100 % ASK, which ISO/IEC 14443 Type A requires.
    pub const TX_ASK: u8 = 0x40;
    /// ModeReg reset value with the CRC preset 0x6363 of ISO/IEC 14443-3.
    pub const MODE: u8 = 0x3D;
}
