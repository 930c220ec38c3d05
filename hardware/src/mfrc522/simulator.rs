//! A register-level MFRC522: implements `SpiDevice` with the chip's SPI framing, register file,
//! 64-byte FIFO, timer and Transceive command, and answers with the cards of a
//! [`SimulatedField`]. The real [`Mfrc522`](super::Mfrc522) driver runs unchanged on top of it,
//! ISO/IEC 14443-4 blocks included: they go through the FIFO like any other frame, and an
//! answer longer than the FIFO overflows it as on the chip.
//!
//! Time is not simulated: the timer expires as soon as it is started, which is when a real one
//! would if nothing answered.

use std::collections::VecDeque;

use embedded_hal::spi::{ErrorType, Operation, SpiDevice};

use super::register_access::{bits, command, Register};
use crate::field::{Answer, SimulatedField};

const FIFO_SIZE: usize = 64;

/// Reset values of the registers that have a non-zero one (datasheet §9.3).
const RESET_VALUES: [(Register, u8); 11] = [
    (Register::Command, 0x20),
    (Register::ComIEn, 0x80),
    (Register::ComIrq, 0x14),
    (Register::Status1, 0x21),
    (Register::WaterLevel, 0x08),
    (Register::Control, 0x10),
    (Register::Mode, 0x3F),
    (Register::TxControl, 0x80),
    (Register::TxSel, 0x10),
    (Register::RxSel, 0x84),
    (Register::RxThreshold, 0x84),
];

/// A simulated MFRC522 looking at a [`SimulatedField`].
#[derive(Debug)]
pub struct SimulatedMfrc522 {
    regs: [u8; 64],
    fifo: VecDeque<u8>,
    field: SimulatedField,
    version: u8,
    transactions: u64,
}

enum Phase {
    Address,
    Reading(u8),
    Writing(u8),
    Done,
}

impl SimulatedMfrc522 {
    /// An MFRC522 v2.0 (VersionReg 0x92) in front of `field`, in its power-on state.
    pub fn new(field: SimulatedField) -> Self {
        Self::with_version(field, 0x92)
    }

    /// Same with another VersionReg value, e.g. 0x88 for an FM17522 clone, or 0xFF for what an
    /// unconnected MISO line with a pull-up reads.
    pub fn with_version(field: SimulatedField, version: u8) -> Self {
        let mut chip = SimulatedMfrc522 { regs: [0; 64], fifo: VecDeque::new(), field, version, transactions: 0 };
        chip.reset();
        chip
    }

    /// The field this chip looks at.
    pub fn field(&self) -> &SimulatedField {
        &self.field
    }

    /// SPI transactions seen so far (to measure the cost of a poll).
    pub fn transactions(&self) -> u64 {
        self.transactions
    }

    fn reset(&mut self) {
        self.regs = [0; 64];
        for (reg, value) in RESET_VALUES {
            self.regs[reg as usize] = value;
        }
        self.regs[Register::Version as usize] = self.version;
        self.fifo.clear();
    }

    fn reg(&self, reg: Register) -> u8 {
        self.regs[reg as usize]
    }

    fn read_register(&mut self, addr: u8) -> u8 {
        match addr {
            a if a == Register::FifoData as u8 => self.fifo.pop_front().unwrap_or(0),
            a if a == Register::FifoLevel as u8 => self.fifo.len() as u8,
            a => self.regs[usize::from(a & 0x3F)],
        }
    }

    fn write_register(&mut self, addr: u8, value: u8) {
        let addr = addr & 0x3F;
        match addr {
            a if a == Register::Command as u8 => self.command(value),
            a if a == Register::ComIrq as u8 || a == Register::DivIrq as u8 => {
                let marked = value & !bits::SET1;
                if value & bits::SET1 != 0 {
                    self.regs[usize::from(a)] |= marked;
                } else {
                    self.regs[usize::from(a)] &= !marked;
                }
            }
            a if a == Register::FifoLevel as u8 => {
                if value & bits::FLUSH_BUFFER != 0 {
                    self.fifo.clear();
                    self.regs[Register::Error as usize] &= !bits::BUFFER_OVFL;
                }
            }
            a if a == Register::FifoData as u8 => {
                if self.fifo.len() < FIFO_SIZE {
                    self.fifo.push_back(value);
                } else {
                    self.regs[Register::Error as usize] |= bits::BUFFER_OVFL;
                }
            }
            a if a == Register::Control as u8 => {
                // TStartNow: the timer runs out at once (no time passes here).
                if value & bits::T_START_NOW != 0 {
                    self.regs[Register::ComIrq as usize] |= bits::TIMER_IRQ;
                }
                // TStartNow and TStopNow read back as 0 and the rest is read-only or reserved:
                // the register keeps its value.
            }
            a if a == Register::BitFraming as u8 => {
                self.regs[usize::from(a)] = value;
                if value & bits::START_SEND != 0 && self.reg(Register::Command) & 0x0F == command::TRANSCEIVE {
                    self.transceive();
                }
            }
            // Read-only registers.
            a if a == Register::Error as u8 || a == Register::Version as u8 || a == Register::Status1 as u8 => {}
            a => self.regs[usize::from(a)] = value,
        }
    }

    fn command(&mut self, value: u8) {
        match value & 0x0F {
            command::SOFT_RESET => self.reset(),
            command::CALC_CRC => {
                let data: Vec<u8> = self.fifo.drain(..).collect();
                let [lo, hi] = crate::iso14443::crc_a(&data);
                self.regs[Register::CrcResultL as usize] = lo;
                self.regs[Register::CrcResultH as usize] = hi;
                self.regs[Register::DivIrq as usize] |= 0x04;
                self.regs[Register::Command as usize] = (value & 0x30) | command::IDLE;
            }
            _ => self.regs[Register::Command as usize] = value & 0x3F,
        }
    }

    fn transceive(&mut self) {
        let data: Vec<u8> = self.fifo.drain(..).collect();
        let last_bits = self.reg(Register::BitFraming) & 0x07;
        self.regs[Register::ComIrq as usize] |= bits::TX_IRQ;
        self.regs[Register::Error as usize] = 0;
        self.regs[Register::Control as usize] &= !bits::RX_LAST_BITS;
        // No carrier, no card: with the antenna off nothing can answer.
        let antenna_on = self.reg(Register::TxControl) & bits::TX1_TX2_RF_EN != 0;
        let answer = if antenna_on { self.field.exchange(&data, last_bits) } else { Answer::Silent };
        match answer {
            Answer::Silent => {
                // The timer only runs if TAuto was set; without it the chip waits forever, which
                // the driver sees as a timeout.
                if self.reg(Register::TMode) & bits::T_AUTO != 0 {
                    self.regs[Register::ComIrq as usize] |= bits::TIMER_IRQ;
                }
            }
            Answer::Frame(bytes) => {
                self.receive_into_fifo(&bytes);
                self.regs[Register::ComIrq as usize] |= bits::RX_IRQ;
            }
            Answer::Collision(bytes) => {
                self.receive_into_fifo(&bytes);
                self.regs[Register::Error as usize] |= bits::COLL_ERR;
                self.regs[Register::ComIrq as usize] |= bits::RX_IRQ | bits::ERR_IRQ;
            }
        }
    }

    /// Puts a received frame into the FIFO; what does not fit is lost and flagged, as when the
    /// host does not empty the FIFO during reception.
    fn receive_into_fifo(&mut self, bytes: &[u8]) {
        let room = FIFO_SIZE - self.fifo.len();
        self.fifo.extend(bytes.iter().take(room));
        if bytes.len() > room {
            self.regs[Register::Error as usize] |= bits::BUFFER_OVFL;
            self.regs[Register::ComIrq as usize] |= bits::ERR_IRQ;
        }
    }

    /// One byte clocked on the SPI bus: MOSI in, MISO out (datasheet §8.1.2).
    fn clock(&mut self, phase: &mut Phase, mosi: u8) -> u8 {
        match *phase {
            Phase::Address => {
                let addr = (mosi >> 1) & 0x3F;
                *phase = if mosi & 0x80 != 0 { Phase::Reading(addr) } else { Phase::Writing(addr) };
                0
            }
            Phase::Reading(addr) => {
                let miso = self.read_register(addr);
                *phase = if mosi & 0x80 != 0 { Phase::Reading((mosi >> 1) & 0x3F) } else { Phase::Done };
                miso
            }
            Phase::Writing(addr) => {
                self.write_register(addr, mosi);
                0
            }
            Phase::Done => 0,
        }
    }
}

impl ErrorType for SimulatedMfrc522 {
    type Error = core::convert::Infallible;
}

impl SpiDevice<u8> for SimulatedMfrc522 {
    fn transaction(&mut self, operations: &mut [Operation<'_, u8>]) -> Result<(), Self::Error> {
        self.transactions += 1;
        let mut phase = Phase::Address;
        for op in operations {
            match op {
                Operation::Read(buf) => buf.iter_mut().for_each(|b| *b = self.clock(&mut phase, 0)),
                Operation::Write(buf) => buf.iter().for_each(|&b| {
                    self.clock(&mut phase, b);
                }),
                Operation::Transfer(read, write) => {
                    for i in 0..read.len().max(write.len()) {
                        let miso = self.clock(&mut phase, write.get(i).copied().unwrap_or(0));
                        if let Some(r) = read.get_mut(i) {
                            *r = miso;
                        }
                    }
                }
                Operation::TransferInPlace(buf) => buf.iter_mut().for_each(|b| *b = self.clock(&mut phase, *b)),
                Operation::DelayNs(_) => {}
            }
        }
        Ok(())
    }
}
